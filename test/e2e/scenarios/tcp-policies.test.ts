// Traffic policy on the opaque-TCP path (issue 12), through real sockets: an
// app in a pod under the interception rules dials declared TCP services (VIPs)
// and its sidecar applies the DestinationRule per connection:
//  - connectionPool.tcp.maxConnections: the connection over the limit is reset,
//    logged with flag UO and counted in meshlet_overflow_total{limit="max_connections"};
//  - outlier detection on connect failure: an endpoint that refuses connections
//    is ejected after one failure, so only one connection of ten fails;
//  - LEAST_REQUEST counts open connections: while one connection is held on an
//    endpoint, every new one goes to the other (ROUND_ROBIN alternates).
// Needs root; skips loudly otherwise.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, until } from '../../support/meshlet-process.js';
import { PodRig, runCommand, type PodProcess } from '../rig/index.js';
import { RIG_PATH } from '../rig/run-command.js';
import { sumSamples } from '../mesh/prom.js';

const avail = await PodRig.available();
if (!avail.ok) console.warn(`\n!!! E2E SKIPPED: test/e2e/scenarios/tcp-policies.test.ts: pod rig unavailable: ${avail.why ?? '?'} !!!\n`);

const IPS = { client: '10.244.0.40', 'up-a': '10.244.0.41', 'up-b': '10.244.0.42', dead: '10.244.0.43' } as const;
const VIP = { cap: '10.96.200.2', flaky: '10.96.200.3', lc: '10.96.200.1', rr: '10.96.200.4', auto: '10.96.200.5' } as const;
const APP_UID = 1000;
const PROXY_UID = 1337;

const service = (name: string, vip: string, endpoints: readonly string[], policy: string, port = `{ number: 7000, name: tcp-${name}, protocol: TCP }`): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${name}.tcp.internal]
  addresses: [${vip}]
  ports: [${port}]
  resolution: STATIC
  endpoints: [${endpoints.map((a) => `{ address: ${a} }`).join(', ')}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: ${name}.tcp.internal
  trafficPolicy: ${policy}
---`;

const MESH_YAML = [
  service('cap', VIP.cap, [IPS['up-a']], '{ connectionPool: { tcp: { maxConnections: 1 } } }'),
  service('flaky', VIP.flaky, [IPS['up-a'], IPS.dead], '{ loadBalancer: { simple: ROUND_ROBIN }, outlierDetection: { consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100 } }'),
  service('lc', VIP.lc, [IPS['up-a'], IPS['up-b']], '{ loadBalancer: { simple: LEAST_REQUEST } }'),
  service('rr', VIP.rr, [IPS['up-a'], IPS['up-b']], '{ loadBalancer: { simple: ROUND_ROBIN } }'),
  // No protocol, no known name prefix: Istio detects the protocol per connection.
  service('auto', VIP.auto, [IPS['up-a']], '{}', '{ number: 7000, name: db }'),
].join('\n');

/** Server-first: says its name at once, then holds the connection until the client closes it. */
const NAME_SERVER_JS = `require('net').createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => {}); s.write(process.env.POD_NAME + '\\n'); s.resume(); s.on('end', () => s.end()); })
  .listen(7000, () => console.log('name server listening'));`;

/** Client helpers: one(host, port) → { who, sock } with who = the first line or 'ERR <code>'. */
const CLIENT_LIB = `const net = require('net');
const one = (host, port) => new Promise((resolve) => {
  const sock = net.connect(port, host); let buf = ''; let done = false;
  const fin = (who) => { if (!done) { done = true; resolve({ who, sock }); } };
  sock.setTimeout(5000, () => { fin('ERR timeout'); sock.destroy(); });
  sock.on('data', (d) => { buf += d; const i = buf.indexOf('\\n'); if (i >= 0) { sock.setTimeout(0); fin(buf.slice(0, i)); } });
  sock.on('error', (e) => fin('ERR ' + e.code)); sock.on('close', () => fin('ERR closed'));
});
const short = async (host, port) => { const r = await one(host, port); r.sock.destroy(); return r.who; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const [host, port, n, svc] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3] || 0), process.argv[4]];
// Waits until the sidecar counts exactly want open connections to svc (its own metrics port, never captured):
// a closed connection is released when both its sockets have closed, a moment after the client saw the end.
let seen = ''; const settled = async (want) => { let last = '';
  for (let i = 0; i < 250; i++) { const text = await (await fetch('http://127.0.0.1:15090/stats/prometheus')).text();
    const m = new RegExp('^meshlet_active_requests\\\\{[^}]*destination_service="' + svc + '"[^}]*\\\\} (\\\\d+)', 'm').exec(text);
    seen = text.split('\\n').filter((l) => l.startsWith('meshlet_active_requests')).join(' | '); last = m ? m[1] : 'absent'; if (Number(last) === want) return; await sleep(20); }
  throw new Error('sidecar never showed ' + want + ' open connections to ' + svc + ' (last: ' + last + '; ' + seen + ')'); };`;

/** n sequential short connections. */
const SEQUENCE_JS = `${CLIENT_LIB}
(async () => { const out = []; for (let i = 0; i < n; i++) out.push(await short(host, port)); console.log(JSON.stringify(out)); })();`;

/** One connection held open, then n short ones (each once the sidecar has released the one before), then the held one closed. */
const HELD_THEN_SHORTS_JS = `${CLIENT_LIB}
(async () => { const held = await one(host, port); const shorts = []; for (let i = 0; i < n; i++) { await settled(1); shorts.push(await short(host, port)); }
  held.sock.destroy(); console.log(JSON.stringify({ held: held.who, shorts })); })();`;

/** Held connection, a second one while it is open, then (held closed) a third, retried until the slot is free. */
const OVERFLOW_JS = `${CLIENT_LIB}
(async () => { const held = await one(host, port); const second = await short(host, port); held.sock.destroy();
  let third = ''; for (let i = 0; i < 50 && !third.startsWith('up-'); i++) { await sleep(100); third = await short(host, port); }
  console.log(JSON.stringify({ held: held.who, second, third })); })();`;

describe.skipIf(!avail.ok)('TCP traffic policy through a sidecar (declared TCP services)', () => {
  const rig = new PodRig({ family: 'tcpp' });
  const work = mkdtempSync(join(tmpdir(), 'meshlet-tcpp-'));
  const procs: PodProcess[] = [];
  let keep = process.env['MESHLET_E2E_KEEP'] === '1';

  const run = async (js: string, vip: string, n = 0, svc = ''): Promise<unknown> => {
    const r = await rig.exec('client', process.execPath, ['-e', js, vip, '7000', String(n), svc], { uid: APP_UID, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`client script exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim()) as unknown;
  };
  const accessLog = (): Array<Record<string, unknown>> => {
    try {
      return readFileSync(join(work, 'access.log'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return [];
    }
  };
  const scrape = async (): Promise<string> =>
    (await runCommand('ip', ['netns', 'exec', rig.nodeNs, 'curl', '-s', '--max-time', '5', `http://${IPS.client}:15090/stats/prometheus`], { env: { PATH: RIG_PATH }, allowFail: true, timeoutMs: 10_000 })).stdout;

  beforeAll(async () => {
    try {
      chmodSync(work, 0o777);
      const config = join(work, 'config');
      mkdirSync(config);
      writeFileSync(join(config, 'mesh.yaml'), MESH_YAML);
      // Only the client pod is intercepted; the upstream pods are plain servers.
      await rig.up(Object.entries(IPS).map(([name, ip]) => ({ name, service: name, ip, ...(name === 'client' ? {} : { interception: null }) })));
      const sidecar = rig.spawn('client', {
        uid: PROXY_UID,
        cmd: process.execPath,
        args: ['bin/meshlet.js', 'proxy', '--config', config, '--workload', 'client', '--labels', 'app=client,version=v1', '--namespace', 'default', '--app-port', '8080', '--access-log', join(work, 'access.log')],
        cwd: ROOT,
        logFile: join(work, 'sidecar.log'),
      });
      procs.push(sidecar);
      const servers = (['up-a', 'up-b'] as const).map((pod) => {
        const p = rig.spawn(pod, { uid: APP_UID, cmd: process.execPath, args: ['-e', NAME_SERVER_JS] });
        procs.push(p);
        return p.waitForLine(/name server listening/, 20_000);
      });
      await Promise.all([sidecar.waitForLine(/meshlet proxy listening/, 90_000), ...servers]);
    } catch (err) {
      keep = true;
      throw new Error(`tcp-policies bring-up failed (logs kept in ${work}): ${(err as Error).message}`);
    }
  }, 150_000);

  afterAll(async () => {
    await rig.down();
    if (keep) console.info(`tcp-policies e2e: logs kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('maxConnections: 1 resets the second concurrent connection with flag UO, counts it, and frees the slot on close', async () => {
    const before = sumSamples(await scrape(), 'meshlet_overflow_total', { destination_service: 'cap.tcp.internal', limit: 'max_connections' });
    const r = (await run(OVERFLOW_JS, VIP.cap)) as { held: string; second: string; third: string };
    expect(r.held).toBe('up-a');
    expect(r.second).toMatch(/^ERR (ECONNRESET|closed)$/);
    expect(r.third).toBe('up-a');
    const uo = await until(() => accessLog().find((e) => e['upstream_cluster'] === 'outbound|7000||cap.tcp.internal' && e['response_flags'] === 'UO'), 10_000);
    expect(uo).toMatchObject({ protocol: 'tcp', original_dst: `${VIP.cap}:7000`, bytes_sent: 0 });
    expect(sumSamples(await scrape(), 'meshlet_overflow_total', { destination_service: 'cap.tcp.internal', limit: 'max_connections' })).toBe(before + 1);
    expect(sumSamples(await scrape(), 'istio_tcp_connections_closed_total', { destination_service: 'cap.tcp.internal', response_flags: 'UO' })).toBe(1);
  }, 60_000);

  it('outlier detection ejects an endpoint that refuses connections: one failure in ten, then only the live endpoint', async () => {
    const seq = (await run(SEQUENCE_JS, VIP.flaky, 10)) as string[];
    // Round robin reaches the dead endpoint by the second connection; after that one failure it is ejected.
    expect(seq.filter((w) => w.startsWith('ERR'))).toHaveLength(1);
    expect(seq.filter((w) => w === 'up-a')).toHaveLength(9);
    expect(seq.indexOf(seq.find((w) => w.startsWith('ERR'))!)).toBeLessThan(2);
    const uf = await until(() => accessLog().find((e) => e['upstream_cluster'] === 'outbound|7000||flaky.tcp.internal' && e['response_flags'] === 'UF'), 10_000);
    expect(uf).toMatchObject({ upstream_host: `${IPS.dead}:7000` });
    expect(sumSamples(await scrape(), 'meshlet_outlier_ejections_total', { destination_service: 'flaky.tcp.internal' })).toBe(1);
    expect(sumSamples(await scrape(), 'meshlet_outlier_ejected_endpoints', { destination_service: 'flaky.tcp.internal' })).toBe(1);
  }, 60_000);

  it('a port with no protocol and no known name prefix is detected per connection: a server-first protocol works', async () => {
    // Before: such a port was taken as declared HTTP, and the server-first exchange hung until the HTTP server gave up.
    expect(await run(SEQUENCE_JS, VIP.auto, 2)).toEqual(['up-a', 'up-a']);
    const line = await until(() => accessLog().find((e) => e['upstream_cluster'] === 'outbound|7000||auto.tcp.internal'), 10_000);
    expect(line).toMatchObject({ protocol: 'tcp', response_flags: '-' });
  }, 60_000);

  it('LEAST_REQUEST counts open TCP connections: with one held on an endpoint, every new one goes to the other', async () => {
    const lc = (await run(HELD_THEN_SHORTS_JS, VIP.lc, 10, 'lc.tcp.internal')) as { held: string; shorts: string[] };
    const other = lc.held === 'up-a' ? 'up-b' : 'up-a';
    expect(['up-a', 'up-b']).toContain(lc.held);
    expect(lc.shorts).toEqual(Array<string>(10).fill(other));
    // The same exchange under ROUND_ROBIN alternates: the held connection does not matter to it.
    const rr = (await run(HELD_THEN_SHORTS_JS, VIP.rr, 10, 'rr.tcp.internal')) as { held: string; shorts: string[] };
    expect(rr.shorts.filter((w) => w === 'up-a')).toHaveLength(5);
    expect(rr.shorts.filter((w) => w === 'up-b')).toHaveLength(5);
  }, 60_000);
});
