// Prometheus metrics through real meshlet processes: known traffic in, exact
// counts with Istio's labels out, for success, 5xx, retries, overflow (UO),
// outlier ejection, fault injection (FI / DI) and mirroring; reporter=source
// on an outbound sidecar, reporter=destination (source labels from the peer
// header) on an inbound one. The exposition is also validated by promtool.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, startMeshlet, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (0.0.4): comments skipped, label values unescaped. */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+\d+)?$/.exec(line);
    if (m === null) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2];
    if (body !== undefined) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;
      re.lastIndex = 1;
      while (re.lastIndex < body.length - 1) {
        const lm = re.exec(body);
        if (lm === null) throw new Error(`bad labels in: ${line}`);
        labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    const v = m[3]!;
    out.push({ name: m[1]!, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  return out;
}

/** Sum of the samples of `name` whose labels include every pair of `want`. */
function total(samples: Sample[], name: string, want: Record<string, string>): number {
  let n = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(want).every(([k, v]) => s.labels[k] === v)) n += s.value;
  }
  return n;
}

async function scrape(port: number): Promise<{ text: string; samples: Sample[] }> {
  const r = await send(port, { path: '/stats/prometheus' });
  expect(r.status).toBe(200);
  return { text: r.body, samples: parseExposition(r.body) };
}

const svc = (h: string): string => `${h}.default.svc.cluster.local`;

let ok: Upstream;
let bad: Upstream;
let flaky: Upstream;
let held: Upstream;
let eject: Upstream;
let plain: Upstream;
let shadow: Upstream;
let app: Upstream;
let a: MeshletProc;
let b: MeshletProc;
const releases: Array<() => void> = [];

beforeAll(async () => {
  ok = await startUpstream('ok');
  bad = await startUpstream('bad', (_req, res) => void res.writeHead(500).end('boom'));
  // Every odd call fails with 503: with one client at a time, each request is retried exactly once.
  flaky = await startUpstream('flaky', (_req, res, _b, n) => void res.writeHead(n % 2 === 1 ? 503 : 200).end());
  // Holds every request until the test releases it, to fill the connection pool.
  held = await startUpstream('held', (_req, res) => {
    releases.push(() => res.end('late'));
  });
  eject = await startUpstream('eject', (_req, res) => void res.writeHead(500).end());
  plain = await startUpstream('plain');
  shadow = await startUpstream('shadow');
  app = await startUpstream('app');
  // Sidecar B: inbound only, in front of `app`.
  b = await startMeshlet(['--config', tempConfig({ 'none.yaml': '' }), '--app-port', String(app.port), '--workload', 'reviews-v2', '--labels', 'app=reviews,version=v2', '--access-log', 'off']);
  const dir = tempConfig({
    'services.yaml':
      serviceEntry('ok', [ok.port]) +
      serviceEntry('bad', [bad.port]) +
      serviceEntry('flaky', [flaky.port]) +
      serviceEntry('held', [held.port]) +
      serviceEntry('eject', [eject.port]) +
      serviceEntry('faulty', [plain.port]) +
      serviceEntry('slow', [plain.port]) +
      serviceEntry('mirrored', [plain.port]) +
      serviceEntry('shadow', [shadow.port]) +
      serviceEntry('reviews', [b.inbound], { labels: [{ app: 'reviews', version: 'v2' }] }),
    'rules.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: flaky }
spec:
  hosts: [flaky]
  http:
    - name: flaky-route
      retries: { attempts: 2, retryOn: 5xx }
      route: [{ destination: { host: flaky } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: held }
spec:
  host: held
  trafficPolicy: { connectionPool: { http: { http2MaxRequests: 1 } } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: eject }
spec:
  host: eject
  trafficPolicy: { outlierDetection: { consecutive5xxErrors: 2, interval: 10s, baseEjectionTime: 60s, maxEjectionPercent: 100 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: faulty }
spec:
  hosts: [faulty]
  http:
    - name: abort-route
      fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }
      route: [{ destination: { host: faulty } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: slow }
spec:
  hosts: [slow]
  http:
    - name: delay-route
      fault: { delay: { fixedDelay: 30ms, percentage: { value: 100 } } }
      route: [{ destination: { host: slow } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: mirrored }
spec:
  hosts: [mirrored]
  http:
    - name: mirror-route
      route: [{ destination: { host: mirrored } }]
      mirror: { host: shadow }
      mirrorPercentage: { value: 100 }
`,
  });
  a = await startMeshlet(['--config', dir, '--workload', 'productpage-v1', '--labels', 'app=productpage,version=v1', '--access-log', 'off']);
});

afterAll(async () => {
  for (const r of releases.splice(0)) r();
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([ok, bad, flaky, held, eject, plain, shadow, app].map((u) => u?.close()));
});

describe('Prometheus metrics after known traffic', () => {
  it('counts successes and 5xx with Istio labels, reporter=source', async () => {
    for (let i = 0; i < 3; i++) expect((await send(a.outbound, { host: 'ok' })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await send(a.outbound, { host: 'bad' })).status).toBe(500);
    const { samples } = await scrape(a.metrics);
    const okSeries = samples.filter((s) => s.name === 'istio_requests_total' && s.labels['destination_service'] === svc('ok'));
    expect(okSeries).toHaveLength(1);
    expect(okSeries[0]!.value).toBe(3);
    expect(okSeries[0]!.labels).toMatchObject({
      reporter: 'source',
      source_workload: 'productpage-v1',
      source_workload_namespace: 'default',
      source_app: 'productpage',
      source_version: 'v1',
      destination_service_name: 'ok',
      destination_service_namespace: 'default',
      destination_app: 'ok',
      destination_version: 'v1',
      request_protocol: 'http',
      response_code: '200',
      response_flags: '-',
    });
    expect(total(samples, 'istio_requests_total', { destination_service: svc('bad'), response_code: '500', response_flags: '-' })).toBe(2);
    // The duration histogram saw the same requests.
    expect(total(samples, 'istio_request_duration_milliseconds_count', { destination_service: svc('ok'), response_code: '200' })).toBe(3);
    expect(total(samples, 'istio_request_duration_milliseconds_bucket', { destination_service: svc('ok'), le: '+Inf' })).toBe(3);
  });

  it('counts retries once per retried attempt, final outcome in istio_requests_total', async () => {
    for (let i = 0; i < 3; i++) expect((await send(a.outbound, { host: 'flaky' })).status).toBe(200);
    expect(flaky.received).toHaveLength(6);
    const { samples } = await scrape(a.metrics);
    expect(total(samples, 'meshlet_retries_total', { destination_service: svc('flaky') })).toBe(3);
    expect(total(samples, 'istio_requests_total', { destination_service: svc('flaky'), response_code: '200' })).toBe(3);
    expect(total(samples, 'istio_requests_total', { destination_service: svc('flaky'), response_code: '503' })).toBe(0);
  });

  it('counts overflow (503 UO) when the connection pool is full', async () => {
    const first = send(a.outbound, { host: 'held' });
    await until(() => held.received.length === 1 || undefined);
    for (let i = 0; i < 2; i++) {
      const r = await send(a.outbound, { host: 'held' });
      expect(r.status).toBe(503);
      expect(r.headers['x-meshlet-flags']).toBe('UO');
    }
    releases.shift()!();
    expect((await first).status).toBe(200);
    const { samples } = await scrape(a.metrics);
    expect(total(samples, 'meshlet_overflow_total', { destination_service: svc('held') })).toBe(2);
    expect(total(samples, 'istio_requests_total', { destination_service: svc('held'), response_code: '503', response_flags: 'UO' })).toBe(2);
    expect(total(samples, 'istio_requests_total', { destination_service: svc('held'), response_code: '200' })).toBe(1);
    expect(held.received).toHaveLength(1);
  });

  it('counts one outlier ejection after consecutive 5xx, then UH', async () => {
    for (let i = 0; i < 2; i++) expect((await send(a.outbound, { host: 'eject' })).status).toBe(500);
    const r = await send(a.outbound, { host: 'eject' });
    expect(r.status).toBe(503);
    expect(eject.received).toHaveLength(2);
    const { samples } = await scrape(a.metrics);
    expect(total(samples, 'meshlet_outlier_ejections_total', { destination_service: svc('eject') })).toBe(1);
    expect(total(samples, 'meshlet_outlier_ejected_endpoints', { destination_service: svc('eject') })).toBe(1);
    expect(total(samples, 'istio_requests_total', { destination_service: svc('eject'), response_code: '503', response_flags: 'UH' })).toBe(1);
  });

  it('counts injected aborts (FI) and delays (DI)', async () => {
    for (let i = 0; i < 2; i++) expect((await send(a.outbound, { host: 'faulty' })).status).toBe(418);
    for (let i = 0; i < 3; i++) expect((await send(a.outbound, { host: 'slow' })).status).toBe(200);
    const { samples } = await scrape(a.metrics);
    expect(total(samples, 'meshlet_faults_injected_total', { kind: 'abort' })).toBe(2);
    expect(total(samples, 'meshlet_faults_injected_total', { kind: 'delay' })).toBe(3);
    expect(samples.find((s) => s.name === 'meshlet_faults_injected_total' && s.labels['kind'] === 'abort')?.labels['route']).toContain('abort-route');
    expect(total(samples, 'istio_requests_total', { destination_service: svc('faulty'), response_code: '418', response_flags: 'FI' })).toBe(2);
    expect(total(samples, 'istio_requests_total', { destination_service: svc('slow'), response_code: '200', response_flags: 'DI' })).toBe(3);
  });

  it('counts mirrored requests once the shadow answered', async () => {
    for (let i = 0; i < 3; i++) expect((await send(a.outbound, { host: 'mirrored' })).status).toBe(200);
    await until(() => shadow.received.length === 3 || undefined);
    const samples = await until(async () => {
      const s = (await scrape(a.metrics)).samples;
      return total(s, 'meshlet_mirror_requests_total', { outcome: 'sent' }) === 3 ? s : undefined;
    });
    expect(samples.find((s) => s.name === 'meshlet_mirror_requests_total')?.labels['route']).toContain('mirror-route');
    expect(total(samples, 'meshlet_mirror_requests_total', { outcome: 'failed' })).toBe(0);
    // The shadow copy is not a request of the caller's: istio_requests_total counts only the primary.
    expect(total(samples, 'istio_requests_total', { destination_service: svc('mirrored') })).toBe(3);
  });

  // These sidecars have no workload certificate (plaintext): the caller's x-meshlet-peer is not
  // trusted, so the source is unknown. Labelled sources over mTLS: test/integration/mtls.test.ts.
  it('reports destination-side metrics on the inbound sidecar; off mTLS the source is unknown', async () => {
    for (let i = 0; i < 4; i++) expect((await send(a.outbound, { host: 'reviews' })).status).toBe(200);
    // The peer header is for the sidecars only.
    expect(app.received.at(-1)?.headers['x-meshlet-peer']).toBeUndefined();
    const inbound = (await scrape(b.metrics)).samples.filter((s) => s.name === 'istio_requests_total');
    expect(inbound).toHaveLength(1);
    expect(inbound[0]!.value).toBe(4);
    expect(inbound[0]!.labels).toMatchObject({
      reporter: 'destination',
      source_workload: 'unknown',
      source_app: 'unknown',
      connection_security_policy: 'none',
      destination_workload: 'reviews-v2',
      destination_app: 'reviews',
      destination_version: 'v2',
      response_code: '200',
      response_flags: '-',
    });
    const outbound = (await scrape(a.metrics)).samples;
    expect(total(outbound, 'istio_requests_total', { reporter: 'source', destination_service: svc('reviews'), response_code: '200' })).toBe(4);
  });

  it('labels inbound requests without a peer header as from an unknown source', async () => {
    for (let i = 0; i < 2; i++) expect((await send(b.inbound, { host: 'reviews' })).status).toBe(200);
    const { samples } = await scrape(b.metrics);
    expect(total(samples, 'istio_requests_total', { reporter: 'destination', source_workload: 'unknown', source_app: 'unknown', destination_workload: 'reviews-v2' })).toBe(6);
    expect(total(samples, 'istio_requests_total', { reporter: 'destination', source_workload: 'productpage-v1' })).toBe(0);
  });

  it('serves exposition that a real Prometheus parser accepts', async () => {
    const { text } = await scrape(a.metrics);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error !== undefined) {
      console.warn('\n!!! SKIPPED: promtool not installed (apt-get install prometheus); exposition checked by our own parser only\n');
      return;
    }
    // Exit 1 is a parse failure; 3 is lint advice. Two kinds of advice are expected and kept:
    // prom-client's default nodejs_*_total gauges, and Istio's own metric name in milliseconds
    // (the dashboards query it by that name). Anything else of ours must lint clean.
    const out = (promtool.stdout + promtool.stderr).trim();
    expect([0, 3], out).toContain(promtool.status);
    const advice = out === '' ? [] : out.split('\n');
    const unexpected = advice.filter((l) => !l.startsWith('nodejs_') && !l.startsWith('istio_request_duration_milliseconds use base unit'));
    expect(unexpected, out).toEqual([]);
  });
});
