import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { Flag } from '../errors/index.js';
import type { Exchange } from '../exchange/index.js';
import type { HeaderBag } from './b3.js';
import { destination, endpoint, makeExchange } from './exchange-fixture.js';
import { MetricsServer } from './metrics-server.js';
import { MeshMetrics } from './metrics.js';
import { PEER_HEADER } from './peer.js';

interface Sample { name: string; labels: Record<string, string>; value: number }

/** A tiny Prometheus text-format parser: enough for our own output. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`unparseable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function find(samples: Sample[], name: string, want: Record<string, string>): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
}

const opts = { workload: 'productpage-v1', namespace: 'default', labels: { app: 'productpage', version: 'v1' }, defaultMetrics: false };
const reviews = destination('reviews');
const v2a = endpoint('10.0.0.7:9080', 'reviews', 'v2');
const v2b = endpoint('10.0.0.8:9080', 'reviews', 'v2');

function complete(m: MeshMetrics, ex: Exchange, status: number, ms: number, inBytes = 0, outBytes = 0, flags = 0): HeaderBag {
  const h: HeaderBag = {};
  m.onStart(ex, h);
  ex.status = status;
  ex.durationMs = ms;
  ex.bytesIn = inBytes;
  ex.bytesOut = outBytes;
  ex.flags = flags;
  m.onComplete(ex);
  return h;
}

describe('MeshMetrics (Istio standard)', () => {
  it('counts outbound requests with Istio labels, buckets and exact counts', async () => {
    const m = new MeshMetrics(opts);
    for (const [ep, status, ms] of [[v2a, 200, 3], [v2b, 200, 30], [v2a, 503, 700]] as const) {
      const ex = makeExchange('outbound');
      ex.destination = reviews;
      ex.endpoint = ep;
      const h = complete(m, ex, status, ms, 10, 2000, status === 503 ? Flag.UF | Flag.URX : 0);
      expect(h[PEER_HEADER]).toBe('productpage-v1;default;productpage;v1');
    }
    const noRoute = makeExchange('outbound');
    complete(m, noRoute, 404, 1, 0, 0, Flag.NR);

    const s = parse(await m.scrape());
    const ok = find(s, 'istio_requests_total', { response_code: '200' });
    expect(ok).toHaveLength(1);
    expect(ok[0]!.value).toBe(2);
    expect(ok[0]!.labels).toEqual({
      reporter: 'source',
      source_workload: 'productpage-v1',
      source_workload_namespace: 'default',
      source_principal: 'unknown',
      source_app: 'productpage',
      source_version: 'v1',
      source_cluster: 'Kubernetes',
      destination_workload: 'reviews-v2',
      destination_workload_namespace: 'default',
      destination_principal: 'unknown',
      destination_app: 'reviews',
      destination_version: 'v2',
      destination_service: 'reviews.default.svc.cluster.local',
      destination_service_name: 'reviews',
      destination_service_namespace: 'default',
      destination_cluster: 'Kubernetes',
      request_protocol: 'http',
      response_code: '200',
      response_flags: '-',
      grpc_response_status: '',
      connection_security_policy: 'unknown',
    });
    expect(find(s, 'istio_requests_total', { response_code: '503', response_flags: 'UF,URX' })[0]!.value).toBe(1);
    const nr = find(s, 'istio_requests_total', { response_code: '404', response_flags: 'NR' });
    expect(nr[0]!.labels['destination_service']).toBe('unknown');
    expect(nr[0]!.labels['destination_workload']).toBe('unknown');

    const dur = (le: string): number => find(s, 'istio_request_duration_milliseconds_bucket', { response_code: '200', le })[0]!.value;
    expect(dur('1')).toBe(0);
    expect(dur('5')).toBe(1);
    expect(dur('50')).toBe(2);
    expect(dur('+Inf')).toBe(2);
    expect(find(s, 'istio_request_duration_milliseconds_sum', { response_code: '200' })[0]!.value).toBe(33);
    expect(find(s, 'istio_request_duration_milliseconds_bucket', { response_code: '200' })).toHaveLength(20);
    expect(find(s, 'istio_response_bytes_bucket', { response_code: '200', le: '1000' })[0]!.value).toBe(0);
    expect(find(s, 'istio_response_bytes_bucket', { response_code: '200', le: '10000' })[0]!.value).toBe(2);
    expect(find(s, 'istio_request_bytes_count', { response_code: '503' })[0]!.value).toBe(1);
  });

  // The exchange fixture has no TLS socket: the peer header is not trusted there
  // (the labelled-source case over real mTLS is test/integration/mtls.test.ts).
  it('reports inbound as destination, ignores the peer header off mTLS and strips it upstream', async () => {
    const m = new MeshMetrics({ ...opts, workload: 'reviews-v2', labels: { app: 'reviews', version: 'v2' } });
    const ex = makeExchange('inbound', { [PEER_HEADER]: 'productpage-v1;default;productpage;v1' });
    ex.destination = reviews;
    const h: HeaderBag = { [PEER_HEADER]: 'productpage-v1;default;productpage;v1', other: 'x' };
    m.onStart(ex, h);
    expect(h).toEqual({ other: 'x' });
    ex.status = 200;
    m.onComplete(ex);
    const anon = makeExchange('inbound');
    anon.status = 200;
    m.onComplete(anon);
    const s = parse(await m.scrape());
    expect(find(s, 'istio_requests_total', { reporter: 'destination', source_workload: 'productpage-v1' })).toHaveLength(0);
    const unknown = find(s, 'istio_requests_total', { reporter: 'destination', source_workload: 'unknown' });
    expect(unknown.reduce((n, x) => n + x.value, 0)).toBe(2);
    expect(unknown.find((x) => x.labels['destination_service'] === 'reviews.default.svc.cluster.local')!.labels).toMatchObject({
      destination_workload: 'reviews-v2', destination_app: 'reviews',
      destination_service: 'reviews.default.svc.cluster.local', connection_security_policy: 'none',
    });
  });

  it('counts meshlet_* events and reads live gauges from providers', async () => {
    const m = new MeshMetrics(opts);
    m.retry('reviews', '5xx');
    m.retry('reviews', '5xx');
    m.retry('reviews', 'reset');
    m.overflow('reviews', 'max_pending_requests');
    m.retryAbandoned('reviews', 'body_too_large');
    m.faultInjected('r1', 'abort');
    m.mirror('r1', 'dropped');
    m.configReload('applied');
    m.configVersion('v7');
    m.provide({
      activeRequests: () => [['reviews', 3]],
      breakerStates: () => [{ service: 'reviews', endpoint: '10.0.0.7:9080', state: 'open' }],
    });
    const s = parse(await m.scrape());
    expect(find(s, 'meshlet_retries_total', { destination_service: 'reviews', reason: '5xx' })[0]!.value).toBe(2);
    expect(find(s, 'meshlet_retries_total', { reason: 'reset' })[0]!.value).toBe(1);
    expect(find(s, 'meshlet_overflow_total', { limit: 'max_pending_requests' })[0]!.value).toBe(1);
    expect(find(s, 'meshlet_retries_abandoned_total', { reason: 'body_too_large' })[0]!.value).toBe(1);
    expect(find(s, 'meshlet_faults_injected_total', { route: 'r1', kind: 'abort' })[0]!.value).toBe(1);
    expect(find(s, 'meshlet_mirror_requests_total', { outcome: 'dropped' })[0]!.value).toBe(1);
    expect(find(s, 'meshlet_config_reloads_total', { outcome: 'applied' })[0]!.value).toBe(1);
    expect(find(s, 'meshlet_config_version_info', { version: 'v7' })[0]!.value).toBe(1);
    expect(find(s, 'meshlet_active_requests', { destination_service: 'reviews' })[0]!.value).toBe(3);
    expect(find(s, 'meshlet_endpoint_breaker_state', { state: 'open' })[0]!.value).toBe(1);
    expect(find(s, 'meshlet_endpoint_breaker_state', { state: 'closed' })[0]!.value).toBe(0);
  });
});

describe('MetricsServer', () => {
  const m = new MeshMetrics({ ...opts, defaultMetrics: true });
  let ready = false;
  let server: MetricsServer;
  afterAll(() => server.close());

  const get = (path: string): Promise<{ status: number; type: string; body: string }> =>
    new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      }).on('error', reject).end();
    });

  it('serves /stats/prometheus, /metrics and /healthz/ready', async () => {
    server = await MetricsServer.start({ registry: m.registry, port: 0, host: '127.0.0.1', ready: () => ready });
    const ex = makeExchange('outbound');
    ex.destination = reviews;
    complete(m, ex, 200, 1);
    for (const p of ['/stats/prometheus', '/metrics']) {
      const r = await get(p);
      expect(r.status).toBe(200);
      expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      const s = parse(r.body);
      expect(find(s, 'istio_requests_total', { response_code: '200' })[0]!.value).toBe(1);
      expect(s.some((x) => x.name === 'process_cpu_user_seconds_total')).toBe(true);
    }
    expect((await get('/healthz/ready')).status).toBe(503);
    ready = true;
    expect((await get('/healthz/ready')).status).toBe(200);
    expect((await get('/nope')).status).toBe(404);
  });
});
