// Network faults from `meshlet experiment run` in the pod rig: a client pod
// with a real Meshlet sidecar (standalone, retries + outlier detection) in
// front of two server pods running the sample app. The runner (the real CLI,
// as root in the client pod) applies iptables rules in a server pod's
// namespace and must always take them away: killing one endpoint is absorbed
// by retries and ejection (exit 0); partitioning the only endpoint breaks the
// hypothesis (exit 1); after SIGKILL of the runner the rules stay but go
// inert at their expiry. Needs root; skips loudly otherwise.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, until } from '../../support/meshlet-process.js';
import { PodRig, runCommand, type PodProcess } from '../rig/index.js';
import { RIG_PATH } from '../rig/run-command.js';

const avail = await PodRig.available();
if (!avail.ok) console.warn(`\n!!! E2E SKIPPED: test/e2e/scenarios/experiment-network.test.ts: pod rig unavailable: ${avail.why ?? '?'} !!!\n`);

const CLIENT = '10.244.0.10';
const A = '10.244.0.11';
const B = '10.244.0.12';

const CONFIG = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: server }
spec:
  hosts: [server]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: [{ address: ${A} }, { address: ${B} }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: server-a }
spec:
  hosts: [server-a]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: [{ address: ${A} }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: server }
spec:
  host: server
  trafficPolicy:
    connectionPool: { tcp: { connectTimeout: 2s } }
    outlierDetection: { consecutive5xxErrors: 2, consecutiveGatewayErrors: 1, interval: 1s, baseEjectionTime: 2s, maxEjectionPercent: 50 }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: server }
spec:
  hosts: [server]
  http:
    - route: [{ destination: { host: server } }]
      timeout: 5s
      retries: { attempts: 3, perTryTimeout: 1s, retryOn: "connect-failure,reset,gateway-error,503" }
`;

function experiment(name: string, host: string, network: string, phases = '{ baseline: 3s, inject: 6s, recover: 3s }', timeout = '8s'): string {
  return `apiVersion: meshlet.io/v1alpha1
kind: Experiment
metadata: { name: ${name} }
spec:
  target: { host: ${host} }
  fault: { network: ${network} }
  load: { via: 127.0.0.1:15001, host: ${host}, path: /details/0, rate: 5, timeout: ${timeout} }
  observe: { metrics: [127.0.0.1:15090] }
  phases: ${phases}
  hypothesis: { successRate: { min: 0.95 } }
`;
}

describe.skipIf(!avail.ok)('network faults from meshlet experiment, in the pod rig', () => {
  const rig = new PodRig({ family: 'nft' });
  const work = mkdtempSync(join(tmpdir(), 'meshlet-netfault-'));
  const procs: PodProcess[] = [];
  let keep = false;

  const run = async (name: string, text: string, extra: string[] = []): Promise<{ code: number; out: string; report: { phases: Array<{ name: string; successRate: number; retries: number; ejections: number; requests: number }>; events: Array<{ kind: string; version: string }> } }> => {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, text);
    const dir = join(work, `report-${name}`);
    const r = await rig.exec('client', process.execPath, ['bin/meshlet.js', 'experiment', 'run', file, '--no-tty', '--report', dir, '--ttl-margin', '3s', ...extra], { timeoutMs: 90_000, env: { PATH: RIG_PATH } });
    const out = r.stdout + r.stderr;
    if (!existsSync(join(dir, 'report.json'))) throw new Error(`no report (exit ${r.code}):\n${out}`);
    return { code: r.code, out, report: JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) };
  };
  const faultChain = async (pod: string): Promise<string> => (await runCommand('ip', ['netns', 'exec', rig.nsOf(pod), 'iptables', '-S'], { env: { PATH: RIG_PATH } })).stdout;
  const nodeGet = async (ip: string): Promise<number> => {
    const js = `fetch('http://${ip}:9080/details/0', { signal: AbortSignal.timeout(1500) }).then((r) => console.log(r.status), () => console.log(0))`;
    const r = await runCommand('ip', ['netns', 'exec', rig.nodeNs, process.execPath, '-e', js], { env: { PATH: RIG_PATH }, allowFail: true });
    return Number(r.stdout.trim());
  };

  beforeAll(async () => {
    try {
      chmodSync(work, 0o755);
      mkdirSync(join(work, 'config'));
      writeFileSync(join(work, 'config', 'server.yaml'), CONFIG);
      await rig.up([
        { name: 'client', service: 'client', ip: CLIENT },
        { name: 'server-a', service: 'server', ip: A },
        { name: 'server-b', service: 'server', ip: B },
      ]);
      // No interception: the load enters the sidecar's outbound port directly, and the servers have no sidecar.
      for (const p of rig.pods()) await runCommand('ip', ['netns', 'exec', rig.nsOf(p), 'iptables', '-t', 'nat', '-F'], { env: { PATH: RIG_PATH } });
      for (const p of ['server-a', 'server-b']) {
        const app = rig.spawn(p, { uid: 1000, cmd: process.execPath, args: ['dist/examples/bookinfo/service.js', 'details'], env: { PORT: '9080', POD_NAME: p }, cwd: ROOT });
        procs.push(app);
        await app.waitForLine(/listening on/, 20_000);
      }
      const sidecar = rig.spawn('client', { uid: 1337, cmd: process.execPath, args: ['bin/meshlet.js', 'proxy', '--config', join(work, 'config'), '--workload', 'client', '--access-log', 'off'], cwd: ROOT, logFile: join(work, 'sidecar.log') });
      procs.push(sidecar);
      await sidecar.waitForLine(/meshlet proxy listening/, 45_000);
    } catch (err) {
      keep = true;
      await rig.down();
      throw new Error(`bring-up failed (logs in ${work}): ${(err as Error).message}`);
    }
  }, 120_000);

  afterAll(async () => {
    await rig.down();
    if (!keep) rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('kill one endpoint: retries and ejection hold the hypothesis (exit 0), and the rules are gone after', async () => {
    const { code, out, report } = await run('kill-a', experiment('kill-a', 'server', `{ netns: ${rig.nsOf('server-a')}, kill: true, ports: [9080] }`));
    expect(code, out).toBe(0);
    const inject = report.phases.find((p) => p.name === 'inject')!;
    expect(inject.requests).toBeGreaterThan(20);
    expect(inject.successRate).toBeGreaterThanOrEqual(0.95);
    // The callers' sidecar met the reset endpoint: it retried elsewhere and/or ejected it.
    expect(inject.retries + inject.ejections, out).toBeGreaterThan(0);
    expect(report.events.map((e) => e.kind)).toEqual(['fault-applied', 'fault-reverted']);
    expect(report.events[0]!.version).toMatch(/network: 1 iptables rule\(s\) in/);
    expect(await faultChain('server-a')).not.toContain('MESHLET_FAULT');
    expect(await nodeGet(A)).toBe(200);
  }, 120_000);

  it('partition the only endpoint from the caller: the hypothesis breaks in inject only (exit 1), reverted', async () => {
    const { code, out, report } = await run('partition-a', experiment('partition-a', 'server-a', `{ netns: ${rig.nsOf('server-a')}, partition: { peers: [${CLIENT}/32] } }`, undefined, '3s'));
    expect(code, out).toBe(1);
    const by = Object.fromEntries(report.phases.map((p) => [p.name, p]));
    expect(by['baseline']!.successRate).toBe(1);
    expect(by['inject']!.successRate).toBeLessThan(0.5);
    expect(by['recover']!.successRate).toBeGreaterThanOrEqual(0.9);
    expect(out).toMatch(/partition from 10\.244\.0\.10\/32/);
    expect(await faultChain('server-a')).not.toContain('MESHLET_FAULT');
  }, 120_000);

  it('after SIGKILL of the runner the rules stay but stop matching at their expiry', async () => {
    const file = join(work, 'killed.yaml');
    writeFileSync(file, experiment('killed', 'server-a', `{ netns: ${rig.nsOf('server-a')}, kill: true }`, '{ baseline: 1s, inject: 4s, recover: 1s }'));
    const runner = rig.spawn('client', { cmd: process.execPath, args: ['bin/meshlet.js', 'experiment', 'run', file, '--no-tty', '--ttl-margin', '2s'], cwd: ROOT });
    await runner.waitForLine(/fault-applied/, 60_000);
    runner.child.kill('SIGKILL');
    await runner.exited;
    expect(await faultChain('server-a')).toContain('-j MESHLET_FAULT_IN');
    expect(await nodeGet(A)).toBe(0);
    // inject 4 s + margin 2 s after it went in: then the same rules no longer match.
    await until(async () => (await nodeGet(A)) === 200, 20_000, 500);
    expect(await faultChain('server-a')).toContain('-j MESHLET_FAULT_IN');
    // The next run replaces the inert leftovers and removes them at its end.
    const again = await run('kill-a-again', experiment('kill-a-again', 'server', `{ netns: ${rig.nsOf('server-a')}, kill: true, ports: [9080] }`, '{ baseline: 1s, inject: 2s, recover: 1s }'));
    expect(again.code, again.out).toBe(0);
    expect(await faultChain('server-a')).not.toContain('MESHLET_FAULT');
  }, 180_000);
});
