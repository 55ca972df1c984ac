// Issue 10 item 9: control-plane size limits fail loudly. A snapshot over the
// control plane's --max-config-bytes is not sent and the node shows
// `ERROR: snapshot too large (N bytes)` in `meshlet status`; a sidecar whose
// own --max-config-bytes is exceeded reconnects with a growing backoff (it
// resets only once a config has been applied), not in a hot loop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { BIN, serviceEntry, startMeshlet, tempConfig, until } from '../support/meshlet-process.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A config whose snapshot is a few tens of KiB: one ServiceEntry with 300 endpoints. */
const bigConfig = (): string => tempConfig({ 'se.yaml': serviceEntry('big', Array.from({ length: 300 }, (_, i) => 20000 + i)) });

async function controlPlane(dir: string, extra: string[] = []): Promise<{ proc: ChildProcess; port: number; metrics: number; err(): string }> {
  const proc = spawn(process.execPath, [BIN, 'control-plane', '--config-dir', dir, '--grpc-host', '127.0.0.1', '--grpc-port', '0', '--metrics-port', '0', '--insecure', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanups.push(() => proc.exitCode === null && proc.kill('SIGKILL'));
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const m = await until(() => /listening on [^\s]*:(\d+), metrics on :(\d+)/.exec(err) ?? undefined, 15_000, 50);
  return { proc, port: Number(m[1]), metrics: Number(m[2]), err: () => err };
}

describe('config size limits', () => {
  it('control plane: an oversize snapshot is not sent; meshlet status shows ERROR: snapshot too large', async () => {
    const cp = await controlPlane(bigConfig(), ['--max-config-bytes', '4096']);
    const m = await startMeshlet(['--control-plane', `127.0.0.1:${cp.port}`, '--insecure', '--node-id', 'big-1', '--access-log', 'off']);
    cleanups.push(() => m.stop());
    const status = await until(() => {
      const r = spawnSync(process.execPath, [BIN, 'status', '--insecure', '--control-plane', `127.0.0.1:${cp.port}`], { encoding: 'utf8' });
      return /big-1/.test(r.stdout) ? r.stdout : undefined;
    }, 15_000, 200);
    expect(status).toMatch(/big-1 .*ERROR: snapshot too large \(\d+ bytes\)/);
    // (spawnSync blocked this process: let the control plane's stderr arrive.)
    await until(() => /not sending node big-1/.test(cp.err()), 5000, 50);
    const size = Number(/snapshot too large \((\d+) bytes\)/.exec(status)![1]);
    expect(size).toBeGreaterThan(4096);
    expect(cp.err()).toMatch(/not sending node big-1 its config: snapshot too large/);
    // Nothing was pushed, the sidecar stays connected and unconfigured (not reconnecting in a loop).
    const metrics = (await send(cp.metrics, { path: '/metrics' })).body;
    expect(metrics).toMatch(/^meshlet_cp_pushes_total 0$/m);
    expect(metrics).toMatch(/^meshlet_cp_connected_sidecars 1$/m);
    expect(JSON.parse((await send(m.admin, { path: '/config_dump' })).body).version).toBeNull();
  }, 60_000);

  it('sidecar: a snapshot over its own --max-config-bytes → reconnects back off instead of looping', async () => {
    const cp = await controlPlane(bigConfig());
    const m = await startMeshlet(['--control-plane', `127.0.0.1:${cp.port}`, '--insecure', '--node-id', 'small-1', '--access-log', 'off', '--max-config-bytes', '4096']);
    cleanups.push(() => m.stop());
    const connects = (): number => (m.stderr().match(/"state":"connecting"/g) ?? []).length;
    const t0 = Date.now();
    await until(() => connects() >= 2, 10_000, 50).catch(() => {
      throw new Error(`no reconnect seen (${connects()} after ${Date.now() - t0} ms, ${m.stderr().length} chars):\n${m.stderr().slice(0, 300)}`);
    });
    const start = connects();
    await new Promise((r) => setTimeout(r, 4000));
    const inFourSeconds = connects() - start;
    console.log(`sidecar reconnects in 4 s while its limit is exceeded: ${inFourSeconds}`);
    // Before: the backoff reset on every accepted stream → a reconnect every ~125 ms (~30 in 4 s).
    // Now: 250 ms base doubling up to 10 s, full jitter → a handful.
    expect(inFourSeconds).toBeLessThan(12);
    expect(JSON.parse((await send(m.admin, { path: '/config_dump' })).body).version).toBeNull();
  }, 60_000);
});
