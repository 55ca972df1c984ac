// `meshlet proxy --concurrency 2`: two worker processes share the outbound
// listener; the primary's metrics port answers the sum over both workers
// (counters never jump back, and equal the requests sent), and its admin
// views (/clusters, /config_dump, /server_info, /ready, /tap) cover both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, startMeshlet, svcRoute, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';
import { freePort } from '../support/tcp-capture.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let up: Upstream;
let mesh: MeshletProc;
let outbound = 0;

async function getJson(port: number, path: string): Promise<Record<string, unknown>> {
  const r = await send(port, { path });
  expect(r.status, `${path}: ${r.body}`).toBe(200);
  return JSON.parse(r.body) as Record<string, unknown>;
}

/** Sum of every istio_requests_total series in one scrape of the primary's metrics port. */
async function scrapeTotal(): Promise<number> {
  const r = await send(mesh.metrics, { path: '/stats/prometheus' });
  expect(r.status).toBe(200);
  let total = 0;
  for (const m of r.body.matchAll(/^istio_requests_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  return total;
}

const call = (): Promise<number> => send(outbound, { host: 'svc', path: '/w' }).then((r) => r.status);

beforeAll(async () => {
  up = await startUpstream('up');
  const dir = tempConfig({ 'svc.yaml': serviceEntry('svc', [up.port]) + svcRoute('') });
  outbound = await freePort();
  // Three processes start here; bounds are generous for a loaded CI machine.
  mesh = await startMeshlet(['--config', dir, '--concurrency', '2', '--outbound-port', String(outbound), '--access-log', 'off', '--drain-seconds', '1'], {}, 30_000);
  await until(async () => (await send(mesh.admin, { path: '/ready' }).catch(() => undefined))?.status === 200, 45_000);
}, 90_000);

afterAll(async () => {
  await mesh?.stop();
  await up?.close();
});

describe('--concurrency 2', () => {
  it('both workers serve, and each scrape answers the sum over both: never backwards, equal to the requests sent', async () => {
    const info = await getJson(mesh.admin, '/server_info');
    expect(info['concurrency']).toBe(2);
    const workers = info['workers'] as { admin_port: number; pid: number }[];
    expect(workers).toHaveLength(2);
    expect(new Set(workers.map((w) => w.pid)).size).toBe(2);

    // One connection per request: node:cluster hands connections out round robin.
    for (let i = 0; i < 30; i++) expect(await call()).toBe(200);
    expect(await until(async () => ((await scrapeTotal()) === 30 ? true : undefined), 15_000)).toBe(true);

    // Now scrape while more requests run: the sum never decreases and never exceeds what was sent.
    let sent = 30;
    let last = 0;
    const seen: number[] = [];
    const load = (async () => {
      for (let i = 0; i < 40; i++) {
        sent++;
        expect(await call()).toBe(200);
      }
    })();
    let done = false;
    void load.finally(() => (done = true));
    while (!done) {
      const t = await scrapeTotal();
      seen.push(t);
      expect(t).toBeGreaterThanOrEqual(last);
      expect(t).toBeLessThanOrEqual(sent);
      last = t;
    }
    await load;
    const final = await until(async () => ((await scrapeTotal()) === 70 ? 70 : undefined), 15_000);
    expect(final).toBe(70);
    for (let i = 0; i < 5; i++) expect(await scrapeTotal()).toBe(70);
    expect(seen.length).toBeGreaterThan(1);

    // Each worker's own view: both handled some of it, and the merged /clusters is their sum.
    const perWorker = await Promise.all(workers.map((w) => getJson(w.admin_port, '/clusters')));
    const endpointTotal = (view: Record<string, unknown>): number => {
      let n = 0;
      for (const c of view['clusters'] as { endpoints: { requests_total: number }[] }[]) for (const e of c.endpoints) n += e.requests_total;
      return n;
    };
    const counts = perWorker.map(endpointTotal);
    for (const n of counts) expect(n).toBeGreaterThan(0);
    expect(counts[0]! + counts[1]!).toBe(70);
    const merged = await getJson(mesh.admin, '/clusters');
    expect(merged['workers']).toBe(2);
    expect(endpointTotal(merged)).toBe(70);
  }, 90_000);

  it('/config_dump shows every worker on the same version; /ready needs both', async () => {
    const dump = await getJson(mesh.admin, '/config_dump');
    const ws = dump['workers'] as { version: string | null }[];
    expect(ws).toHaveLength(2);
    expect(ws[0]!.version).not.toBeNull();
    expect(ws[1]!.version).toBe(ws[0]!.version);
    expect(dump['version']).toBe(ws[0]!.version);
    expect((dump['config'] as { virtualHosts: unknown[] }).virtualHosts.length).toBeGreaterThan(0);
    expect((await send(mesh.admin, { path: '/ready' })).status).toBe(200);
    expect((await send(mesh.metrics, { path: '/healthz/ready' })).status).toBe(200);
  });

  it('/tap streams requests served by either worker, up to max in total', async () => {
    const lines: string[] = [];
    const tap = new Promise<void>((resolve, reject) => {
      void import('node:http').then(({ get }) => {
        get({ host: '127.0.0.1', port: mesh.admin, path: '/tap?max=6' }, (res) => {
          expect(res.statusCode).toBe(200);
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (buf += c));
          res.on('end', () => {
            lines.push(...buf.split('\n').filter((l) => l !== ''));
            resolve();
          });
        }).on('error', reject);
      });
    });
    // The tap is live once both workers have a subscriber: keep sending until the stream ends.
    let ended = false;
    void tap.then(() => (ended = true));
    for (let i = 0; i < 200 && !ended; i++) await call();
    await tap;
    expect(lines).toHaveLength(6);
    for (const l of lines) expect(JSON.parse(l) as { path: string; response_code: number }).toMatchObject({ path: "/w", response_code: 200 });
  }, 30_000);

  it('SIGTERM: both workers drain and exit, then the primary exits 0', async () => {
    const exit = new Promise<number | null>((resolve) => mesh.proc.once('exit', (code) => resolve(code)));
    mesh.proc.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(mesh.stderr().match(/worker \d+ exited with 0/g)).toHaveLength(2);
  }, 15_000);
});
