// The pod rig end to end: three bookinfo pods, each with a stand-in sidecar,
// under the real interception rules. Needs root; skips loudly otherwise.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interceptionRules, ISTIO_DEFAULT_INTERCEPTION } from '../../proxy/interception/index.js';
import { isAlive, listNamespaces, PodRig, rigState, type PodProcess } from './rig/index.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const APP_UID = 1000;
const PROXY_UID = 1337;
const avail = await PodRig.available();
if (!avail.ok) console.warn(`\n!!! SKIPPING test/e2e/rig.test.ts: pod rig unavailable: ${avail.why ?? '?'} !!!\n`);

const PODS = [
  { name: 'productpage-0', service: 'productpage', env: {} as Record<string, string> },
  { name: 'reviews-0', service: 'reviews', env: { VERSION: 'v2' } as Record<string, string> },
  { name: 'ratings-0', service: 'ratings', env: {} as Record<string, string> },
];

interface Probe {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  error?: string;
  ms: number;
}

// A curl stand-in run inside a pod: prints one JSON line about the response.
const PROBE = `
const http = require('http'); const t = performance.now();
const req = http.get(process.argv[1], { headers: JSON.parse(process.argv[2]), timeout: Number(process.argv[3] || 5000) }, (res) => {
  let b = ''; res.on('data', (c) => (b += c));
  res.on('end', () => console.log(JSON.stringify({ status: res.statusCode, headers: res.headers, body: b, ms: performance.now() - t })));
});
req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
req.on('error', (e) => console.log(JSON.stringify({ error: e.code || e.message, ms: performance.now() - t })));`;

async function probe(rig: PodRig, pod: string, uid: number, url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<Probe> {
  const r = await rig.exec(pod, process.execPath, ['-e', PROBE, url, JSON.stringify(headers), String(timeoutMs)], { uid });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Probe;
}

function rigLeftovers(prefix: string, namespaces: string[]): string[] {
  const etc = existsSync('/etc/netns') ? readdirSync('/etc/netns') : [];
  return [...namespaces, ...etc].filter((n) => n.startsWith(prefix));
}

describe.skipIf(!avail.ok)('pod rig with interception', () => {
  const rig = new PodRig();
  const procs: PodProcess[] = [];
  const timing: Record<string, number> = {};

  beforeAll(async () => {
    const t0 = performance.now();
    await rig.up(PODS.map(({ name, service }) => ({ name, service })));
    timing['up3'] = performance.now() - t0;
    const routes = JSON.stringify(Object.fromEntries(PODS.map((p) => [p.service, rig.podsOf(p.service).map((n) => rig.podIp(n))])));
    for (const p of PODS) {
      procs.push(
        rig.spawn(p.name, { uid: APP_UID, cmd: process.execPath, args: ['--import', 'tsx', 'examples/bookinfo/service.ts', p.service], env: { ...p.env, PORT: '9080' }, cwd: ROOT }),
        rig.spawn(p.name, { uid: PROXY_UID, cmd: process.execPath, args: ['--import', 'tsx', 'test/e2e/rig/standin-sidecar.ts'], env: { ROUTES: routes, APP_PORT: '9080' }, cwd: ROOT }),
      );
    }
    await Promise.all(procs.map((p) => p.waitForLine(/listening/, 15_000)));
    timing['up3+6procs'] = performance.now() - t0;
  }, 30_000);

  afterAll(async () => {
    await rig.down();
    console.info(`pod rig timing (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, Math.round(v)])))}`);
  });

  it('loads exactly the interception rule set in every pod', async () => {
    const want = interceptionRules(ISTIO_DEFAULT_INTERCEPTION).split('\n').filter((l) => l.startsWith('-A '));
    for (const p of PODS) {
      const r = await rig.exec(p.name, 'iptables-save', ['-t', 'nat']);
      expect(r.stdout.split('\n').filter((l) => l.startsWith('-A '))).toEqual(want);
    }
  });

  it("captures the app's plain call: outbound sidecar, then the peer's inbound sidecar", async () => {
    const r = await probe(rig, 'productpage-0', APP_UID, 'http://reviews:9080/reviews/0');
    expect(r.status, JSON.stringify(r)).toBe(200);
    expect(r.headers?.['x-standin-hops']).toBe('inbound@reviews-0, outbound@productpage-0');
    const body = JSON.parse(r.body ?? '{}') as Record<string, unknown>;
    // reviews v2's own call to ratings went through both sidecars as well.
    expect(body).toMatchObject({ service: 'reviews', version: 'v2', pod: 'reviews-0', ratings: { service: 'ratings', pod: 'ratings-0' } });
  });

  it('runs the bookinfo chain with trace headers forwarded, hairpinning a call to its own service', async () => {
    const trace = { 'x-request-id': 'rig-req-1', 'x-b3-traceid': '1'.repeat(32), 'x-b3-spanid': '2'.repeat(16), 'x-b3-sampled': '1' };
    const r = await probe(rig, 'productpage-0', APP_UID, 'http://productpage.default.svc.cluster.local:9080/productpage', trace);
    expect(r.status, JSON.stringify(r)).toBe(200);
    expect(r.headers?.['x-standin-hops']).toBe('inbound@productpage-0, outbound@productpage-0');
    const body = JSON.parse(r.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({ service: 'productpage', reviews: { service: 'reviews', ratings: { service: 'ratings', trace } } });
    // No details pod in this rig: bookinfo degrades instead of failing.
    expect(body['details']).toMatchObject({ error: expect.any(String) as unknown });
  });

  it("does not capture the proxy uid's own traffic on the way out", async () => {
    // A VIP dialled without capture escapes to the node namespace and gets a RST.
    const vip = await probe(rig, 'productpage-0', PROXY_UID, `http://${rig.vipOf('reviews')}:9080/reviews/0`);
    expect(vip.error).toBe('ECONNREFUSED');
    // Straight to the pod IP: only the peer's inbound hop, no outbound one.
    const direct = await probe(rig, 'productpage-0', PROXY_UID, `http://${rig.podIp('reviews-0')}:9080/reviews/0`);
    expect(direct.status).toBe(200);
    expect(direct.headers?.['x-standin-hops']).toBe('inbound@reviews-0');
  });

  it('reaches the sidecar metrics port 15090 directly, not through the inbound redirect', async () => {
    const r = await probe(rig, 'productpage-0', PROXY_UID, `http://${rig.podIp('reviews-0')}:15090/stats/prometheus`);
    expect(r.status).toBe(200);
    expect(r.headers?.['x-standin-hops']).toBeUndefined();
    expect(r.body).toMatch(/standin_requests_total\{direction="inbound",pod="reviews-0"\} [1-9]/);
  });

  it('drops packets with packetLoss and restores the pod after', async () => {
    const url = `http://${rig.podIp('ratings-0')}:15090/`;
    await rig.packetLoss('ratings-0', 1);
    const lost = await probe(rig, 'productpage-0', PROXY_UID, url, {}, 300);
    await rig.packetLoss('ratings-0', null);
    const back = await probe(rig, 'productpage-0', PROXY_UID, url);
    expect(lost.error).toBe('TIMEOUT');
    expect(back.status).toBe(200);
    // Interception survived the filter-table reload.
    const via = await probe(rig, 'productpage-0', APP_UID, 'http://ratings:9080/ratings/0');
    expect(via.headers?.['x-standin-hops']).toBe('inbound@ratings-0, outbound@productpage-0');
  });

  it('applies and removes netem delay', async (ctx) => {
    if (!(await PodRig.netemAvailable())) {
      console.warn('!!! SKIPPING netem check: this kernel has no sch_netem (CONFIG_NET_SCH_NETEM) !!!');
      ctx.skip();
    }
    const url = `http://${rig.podIp('ratings-0')}:15090/`;
    await rig.netem('ratings-0', 'delay 60ms');
    const slow = await probe(rig, 'productpage-0', PROXY_UID, url);
    await rig.netem('ratings-0', null);
    const fast = await probe(rig, 'productpage-0', PROXY_UID, url);
    expect(slow.ms).toBeGreaterThanOrEqual(55);
    expect(fast.ms).toBeLessThan(slow.ms);
  });

  it('runs processes in the node namespace, which reaches pods over the bridge', async () => {
    const fromNode = rig.runInNode(process.execPath, ['-e', PROBE, `http://${rig.podIp('ratings-0')}:15090/`, '{}']);
    await fromNode.exited;
    expect(JSON.parse(fromNode.output()) as Probe).toMatchObject({ status: 200 });
  });

  it('cleans up after a crashed owner without touching a live rig', async () => {
    // Bring a rig up from another process, then SIGKILL it: nothing gets to run `down`.
    const cli = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/rig/cli.ts', 'up', '--hold', '--count', '2'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`cli up: ${out}`)), 10_000);
      cli.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve((clearTimeout(timer), out));
      });
      cli.stderr.on('data', (c: Buffer) => (out += c.toString()));
    });
    const crashed = (JSON.parse(line) as { prefix: string }).prefix;
    // A process living in the crashed rig, as a leftover app would.
    const squatter = spawn('ip', ['netns', 'exec', `${crashed}productpage-0`, 'sleep', '30'], { stdio: 'ignore' });
    await new Promise((r) => squatter.once('spawn', r));
    cli.kill('SIGKILL');
    await new Promise((r) => cli.once('exit', r));
    expect(rigState(crashed)).toBe('stale');
    expect(rigState(rig.prefix)).toBe('live');

    // A new rig's up() runs cleanupStale first.
    const second = new PodRig();
    const t0 = performance.now();
    try {
      await second.up([{ name: 'a', service: 'a' }, { name: 'b', service: 'b' }]);
      const namespaces = await listNamespaces();
      expect(rigLeftovers(crashed, namespaces)).toEqual([]);
      expect(isAlive(squatter.pid ?? 0)).toBe(false);
      expect(namespaces).toContain(`${rig.prefix}reviews-0`);
      expect(namespaces).toContain(`${second.prefix}a`);
    } finally {
      await second.down();
    }
    timing['up2-after-crash+down'] = performance.now() - t0;
    expect(rigLeftovers(second.prefix, await listNamespaces())).toEqual([]);
  }, 20_000);

  it('down removes every namespace, hosts dir and process it made', async () => {
    const pids = procs.map((p) => p.pid);
    const t0 = performance.now();
    await rig.down();
    timing['down3'] = performance.now() - t0;
    expect(rigLeftovers(rig.prefix, await listNamespaces())).toEqual([]);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(rigState(rig.prefix)).toBe('stale');
  });
});
