// gRPC end to end in the pod rig (issue 13): two gRPC services (grpc-js
// servers in their own pods, each with a sidecar under Istio's iptables
// rules) and a client pod whose app knows nothing of the mesh. It proves:
// h2c prior knowledge intercepted on both sides (outbound → inbound), per-call
// round robin from one client channel, grpc.health.v1 Check through the mesh
// (statuses and NOT_FOUND pass through unchanged), and a long-lived server
// stream whose pod is killed (app and sidecar, SIGKILL): the stream breaks,
// and the caller's next calls on the same channel all succeed because the
// sidecar retries the dead endpoint's connect failures on the live one.
// Needs root; skips loudly otherwise.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, until } from '../../support/meshlet-process.js';
import { PodRig, runCommand, type PodProcess } from '../rig/index.js';
import { RIG_PATH } from '../rig/run-command.js';
import { APP_UID } from '../interception/servers.js';

const avail = await PodRig.available();
if (!avail.ok) console.warn(`\n!!! E2E SKIPPED: test/e2e/scenarios/grpc.test.ts: pod rig unavailable: ${avail.why ?? '?'} !!!\n`);

const PROXY_UID = 1337;
const PODS = [
  { name: 'client', service: 'client' },
  { name: 'echo-a', service: 'echo' },
  { name: 'echo-b', service: 'echo' },
  { name: 'greet-a', service: 'greet' },
] as const;
type PodName = (typeof PODS)[number]['name'];
const APP = ['--import', 'tsx', 'test/e2e/grpc/grpc-app.ts'];

/** A GRPC ServiceEntry on the rig's VIP with the pods as endpoints, round robin, and a retry policy for gRPC. */
function service(rig: PodRig, name: string): string {
  const eps = rig.podsOf(name).map((p) => `    - { address: ${rig.podIp(p)}, labels: { app: ${name}, pod: ${p} } }`);
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${name}]
  addresses: [${rig.vipOf(name)}]
  ports: [{ number: 9090, name: grpc, protocol: GRPC }]
  resolution: STATIC
  endpoints:
${eps.join('\n')}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: ${name}
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${name}]
  http:
    - route: [{ destination: { host: ${name} } }]
      retries: { attempts: 3, retryOn: "connect-failure,refused-stream,unavailable,cancelled" }
---
`;
}

describe.skipIf(!avail.ok)('gRPC in the pod rig: two services behind sidecars with interception', () => {
  const rig = new PodRig({ family: 'grpc' });
  const work = mkdtempSync(join(tmpdir(), 'meshlet-grpc-'));
  const configDir = join(work, 'config');
  const procs = new Map<PodName, { app?: PodProcess; sidecar: PodProcess }>();
  let keep = process.env['MESHLET_E2E_KEEP'] === '1';

  const accessLog = (pod: PodName): Array<Record<string, unknown>> => {
    try {
      return readFileSync(join(work, `access-${pod}.log`), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return [];
    }
  };
  /** The client app, as the app's uid (so every connection it makes is intercepted); its last stdout line. */
  const client = async (...args: string[]): Promise<string> => {
    const r = await rig.exec('client', process.execPath, [...APP, ...args], { uid: APP_UID, timeoutMs: 90_000 });
    if (r.code !== 0) throw new Error(`client ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-2000)}`);
    return r.stdout.trim().split('\n').pop() ?? '';
  };
  const scrape = async (pod: PodName): Promise<string> => {
    const r = await runCommand('ip', ['netns', 'exec', rig.nodeNs, 'curl', '-s', '--max-time', '5', `http://${rig.podIp(pod)}:15090/stats/prometheus`], { env: { PATH: RIG_PATH }, allowFail: true, timeoutMs: 10_000 });
    return r.stdout;
  };

  beforeAll(async () => {
    try {
      chmodSync(work, 0o777);
      mkdirSync(configDir);
      await rig.up(PODS);
      writeFileSync(join(configDir, '10-grpc.yaml'), service(rig, 'echo') + service(rig, 'greet'));
      const ready: Array<Promise<string>> = [];
      for (const { name } of PODS) {
        const entry: { app?: PodProcess; sidecar: PodProcess } = {
          sidecar: rig.spawn(name, {
            uid: PROXY_UID,
            cmd: process.execPath,
            args: [
              'bin/meshlet.js', 'proxy', '--config', configDir,
              '--workload', name, '--labels', `app=${name},version=v1`, '--namespace', 'default',
              '--app-port', '9090', '--access-log', join(work, `access-${name}.log`),
            ],
            cwd: ROOT,
            logFile: join(work, `sidecar-${name}.log`),
          }),
        };
        ready.push(entry.sidecar.waitForLine(/meshlet proxy listening/, 90_000));
        if (name !== 'client') {
          entry.app = rig.spawn(name, { uid: APP_UID, cmd: process.execPath, args: [...APP, 'server', name], cwd: ROOT, logFile: join(work, `app-${name}.log`) });
          ready.push(entry.app.waitForLine(/grpc app .* listening/, 90_000));
        }
        procs.set(name, entry);
      }
      await Promise.all(ready);
    } catch (err) {
      keep = true;
      throw new Error(`gRPC rig bring-up failed (logs kept in ${work}): ${(err as Error).message}`);
    }
  }, 240_000);

  afterAll(async () => {
    await rig.down();
    if (keep) console.info(`gRPC e2e: logs kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('unary calls from one client channel are balanced per call across echo\'s pods, through both sidecars', async () => {
    expect(JSON.parse(await client('calls', 'echo:9090', '10'))).toEqual({ servers: { 'echo-a': 5, 'echo-b': 5 }, errors: {} });
    expect(JSON.parse(await client('calls', 'greet:9090', '3'))).toEqual({ servers: { 'greet-a': 3 }, errors: {} });
    // Outbound in the client pod (h2 to the pod IP), inbound in each server pod (h2 to 127.0.0.1:9090), gRPC status 0 on both.
    const out = await until(() => {
      const l = accessLog('client').filter((e) => e['path'] === '/meshlet.test.Echo/Unary');
      return l.length >= 13 ? l : undefined;
    }, 10_000);
    expect(out.every((e) => e['direction'] === 'outbound' && e['protocol'] === 'grpc' && e['grpc_status'] === 0 && e['response_code'] === 200)).toBe(true);
    expect(new Set(out.map((e) => e['upstream_host']))).toEqual(new Set(['echo-a', 'echo-b', 'greet-a'].map((p) => `${rig.podIp(p)}:9090`)));
    const inbound = await until(() => {
      const l = accessLog('echo-a').filter((e) => e['path'] === '/meshlet.test.Echo/Unary');
      return l.length >= 5 ? l : undefined;
    }, 10_000);
    expect(inbound).toHaveLength(5);
    expect(inbound.every((e) => e['direction'] === 'inbound' && e['upstream_host'] === '127.0.0.1:9090' && e['grpc_status'] === 0)).toBe(true);
  }, 120_000);

  it('grpc.health.v1 Check through the mesh: SERVING per service, NOT_FOUND for an unknown one', async () => {
    expect(JSON.parse(await client('health', 'echo:9090', '-', 'meshlet.test.Echo', 'no.such.Service'))).toEqual(['SERVING', 'SERVING', 'error NOT_FOUND']);
    expect(JSON.parse(await client('health', 'greet:9090', '-'))).toEqual(['SERVING']);
    const checks = await until(() => {
      const l = accessLog('client').filter((e) => e['path'] === '/grpc.health.v1.Health/Check');
      return l.length >= 4 ? l : undefined;
    }, 10_000);
    // NOT_FOUND is the server's answer, carried through: status 5, no response flag, not retried.
    expect(checks.map((e) => e['grpc_status']).sort()).toEqual([0, 0, 0, 5]);
    expect(checks.every((e) => e['response_flags'] === '-' && e['attempt_count'] === 1)).toBe(true);
  }, 120_000);

  it('a long-lived stream breaks when its pod is killed; the next calls on the same channel all succeed via retries', async () => {
    const retriesBefore = sumRetries(await scrape('client'));
    const caller = rig.spawn('client', { uid: APP_UID, cmd: process.execPath, args: [...APP, 'kill-stream', 'echo:9090', '10'], cwd: ROOT, logFile: join(work, 'app-client-kill.log') });
    const open = await caller.waitForLine(/^STREAM_OPEN /, 60_000);
    const victim = open.split(' ')[1] as PodName;
    const survivor: PodName = victim === 'echo-a' ? 'echo-b' : 'echo-a';
    expect(['echo-a', 'echo-b']).toContain(victim);
    // Kill the pod: its app and its sidecar at once, no graceful shutdown. The namespace (and its iptables) stays, as a dying pod's IP does until it is gone.
    const pod = procs.get(victim)!;
    for (const p of [pod.app!, pod.sidecar]) p.child.kill('SIGKILL');
    await Promise.all([pod.app!.exited, pod.sidecar.exited]);
    const ended = await caller.waitForLine(/^STREAM_ENDED /, 60_000);
    // Cut between messages: the caller gets a gRPC status it can act on, not a bare RST (INTERNAL).
    expect(ended).toMatch(/^STREAM_ENDED UNAVAILABLE upstream reset/);
    const afterLine = await caller.waitForLine(/^AFTER /, 90_000);
    const after = JSON.parse(afterLine.slice('AFTER '.length)) as { servers: Record<string, number>; errors: Record<string, number>; stream: string; streamed: string[] };
    // Every call lands on the survivor; round robin sent some first to the dead pod, and those were retried.
    expect(after).toEqual({ servers: { [survivor]: 10 }, errors: {}, stream: 'OK', streamed: Array(5).fill(survivor) });
    await caller.exited;
    const retried = await until(async () => {
      const n = sumRetries(await scrape('client')) - retriesBefore;
      return n >= 1 ? n : undefined;
    }, 10_000, 200);
    expect(retried).toBeGreaterThanOrEqual(1);
    const log = accessLog('client').filter((e) => e['path'] === '/meshlet.test.Echo/Unary' && e['upstream_host'] === `${rig.podIp(survivor)}:9090`);
    expect(log.some((e) => Number(e['attempt_count']) > 1)).toBe(true);
    console.info(`gRPC e2e: killed ${victim}; the held stream ended "${ended.slice('STREAM_ENDED '.length)}"; ${retried} retries on the next 11 calls`);
  }, 180_000);
});

function sumRetries(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('meshlet_retries_total{') && line.includes('destination_service="echo')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}
