// The control plane as a real child process (via the CLI command under tsx):
// killed and restarted, and frozen with SIGSTOP, while a sidecar client runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchStatus, syncState } from '../../control-plane/index.js';
import { configDir, FakeProxy, sleep, waitFor } from './control-plane-fixtures.js';

const COMMAND = fileURLToPath(new URL('../../cli/commands/control-plane.ts', import.meta.url));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Starts `meshlet control-plane` configured through MESHLET_* env; resolves with its gRPC port. */
async function spawnControlPlane(dir: string, port = 0): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(COMMAND)}).then((m) => m.run([])).then((c) => process.exit(c))`], {
    env: { ...process.env, MESHLET_CONFIG_DIR: dir, MESHLET_GRPC_HOST: '127.0.0.1', MESHLET_GRPC_PORT: String(port), MESHLET_METRICS_PORT: '-1', MESHLET_INSECURE: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
  let stderr = '';
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`control plane did not start:\n${stderr}`)), 15_000);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on [^\s]*:(\d+)/.exec(stderr);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`control plane exited ${code}:\n${stderr}`)));
  });
  return { child, port: bound };
}

describe('control plane process', () => {
  it('sidecar keeps its config while the control plane is down and resyncs without a resend when it returns', async () => {
    const files = await configDir();
    cleanups.push(files.remove);
    const first = await spawnControlPlane(files.dir);
    const target = `127.0.0.1:${first.port}`;
    const p = new FakeProxy(target, 'survivor');
    cleanups.push(() => p.client.close());
    await waitFor('applied', () => p.applied.length === 1, 10_000);
    const version = p.version;

    first.child.kill('SIGKILL');
    await waitFor('disconnected', () => p.client.state === 'disconnected', 5000);
    await sleep(300); // a few failed reconnects with backoff
    expect(p.applied).toHaveLength(1);
    expect(p.version).toBe(version);

    await spawnControlPlane(files.dir, first.port);
    await waitFor('reconnected', () => p.client.state === 'connected', 10_000);
    await waitFor('synced', async () => {
      const n = (await fetchStatus(target)).nodes.find((x) => x.nodeId === 'survivor');
      return n !== undefined && syncState(n) === 'SYNCED';
    }, 5000);
    expect(p.applied).toHaveLength(1);
  }, 40_000);

  // Keepalive shortened to 1 s / 1 s to keep the test fast; with the default
  // 5 s / 5 s the same detection takes ~10 s (libraries.md §3.5).
  it('keepalive notices a frozen (SIGSTOPped) control plane', async () => {
    const files = await configDir();
    cleanups.push(files.remove);
    const { child, port } = await spawnControlPlane(files.dir);
    const p = new FakeProxy(`127.0.0.1:${port}`, 'watcher', { keepaliveTimeMs: 1000, keepaliveTimeoutMs: 1000 });
    cleanups.push(() => p.client.close());
    await waitFor('applied', () => p.applied.length === 1, 10_000);
    child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await waitFor('disconnected', () => p.client.state !== 'connected', 8000);
    expect(Date.now() - stoppedAt).toBeLessThan(8000);
    expect(p.applied).toHaveLength(1);
    child.kill('SIGCONT');
  }, 40_000);

  it('shuts down gracefully on SIGTERM: streams end, exit code 0', async () => {
    const files = await configDir();
    cleanups.push(files.remove);
    const { child, port } = await spawnControlPlane(files.dir);
    const p = new FakeProxy(`127.0.0.1:${port}`, 'graceful');
    cleanups.push(() => p.client.close());
    await waitFor('applied', () => p.applied.length === 1, 10_000);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await waitFor('disconnected', () => p.client.state === 'disconnected', 3000);
    expect(p.applied).toHaveLength(1);
  }, 30_000);
});
