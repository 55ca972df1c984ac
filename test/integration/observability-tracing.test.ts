// Tracing through real meshlet processes and a real OTLP/HTTP receiver:
//  - a chain client → sidecar A (outbound) → sidecar B (inbound) → app gives
//    one trace whose B span is the child of A's span, with the attributes and
//    error status an operator needs;
//  - B3 through one sidecar: what the upstream receives for every kind of
//    incoming context (none, 64/128-bit ids, single `b3`, debug, deny, defer)
//    and x-request-id handling.
// Sidecar A samples every undecided request (rate 1); sidecar B samples none
// (rate 0), so B exporting a span proves it honoured the caller's decision.
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, startMeshlet, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const HEX16 = /^[0-9a-f]{16}$/;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const T64 = '463ac35c9f6413ad';
const T128 = '463ac35c9f6413ad48485a3953bb6124';
const S = 'a2fb4a1d1a96d312';
const P = '0020000000000001';
const PAD = '0000000000000000';
const CLIENT = 3;
const SERVER = 2;
const ERROR = 2;

let otlp: OtlpReceiver;
let app: Upstream;
let a: MeshletProc;
let b: MeshletProc;
let seq = 0;
const flakyHits = new Map<string, number>();

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  app = await startUpstream('app', (req, res) => {
    const rid = String(req.headers['x-request-id']);
    if (req.url === '/fail') return void res.writeHead(500).end('broken');
    if (req.url === '/flaky') {
      // First attempt of each request fails with 503 (retried by A's route policy).
      const n = (flakyHits.get(rid) ?? 0) + 1;
      flakyHits.set(rid, n);
      if (n === 1) return void res.writeHead(503).end();
    }
    res.end('ok');
  });
  // Short batch delay so spans arrive in ~100 ms instead of the SDK's 5 s default.
  const env = { OTEL_BSP_SCHEDULE_DELAY: '100' };
  const echo = serviceEntry('echo', [app.port], { labels: [{ app: 'echo', version: 'v1' }] });
  b = await startMeshlet(
    ['--config', tempConfig({ 's.yaml': echo }), '--app-port', String(app.port), '--workload', 'reviews-v1', '--labels', 'app=reviews,version=v1',
      '--trace-endpoint', otlp.url, '--trace-sample-rate', '0', '--access-log', 'off'],
    env,
  );
  // Istio's default policy retries no status code, so the 503 retry is explicit.
  const retry503 = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http: [{ retries: { attempts: 2, retryOn: "503" }, route: [{ destination: { host: reviews } }] }]
`;
  const services = echo + serviceEntry('reviews', [b.inbound], { labels: [{ app: 'reviews', version: 'v1' }] }) + retry503;
  a = await startMeshlet(
    ['--config', tempConfig({ 's.yaml': services }), '--workload', 'productpage-v1', '--labels', 'app=productpage,version=v1',
      '--trace-endpoint', otlp.url, '--trace-sample-rate', '1', '--access-log', 'off'],
    env,
  );
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([app?.close(), otlp?.close()]);
});

/** Spans whose x-request-id attribute is `rid`, once `n` of them arrived. */
function spansFor(rid: string, n: number): Promise<ReceivedSpan[]> {
  return until(() => {
    const got = otlp.spans.filter((s) => s.attributes['guid:x-request-id'] === rid);
    return got.length >= n ? got : undefined;
  });
}

/**
 * Proves that nothing was exported for `rid` by `proxy`: a sampled request sent
 * afterwards through the same proxy arrives, and spans are exported in order.
 */
async function expectNoSpan(rid: string, proxy: MeshletProc): Promise<void> {
  const barrier = `barrier-${++seq}`;
  expect((await send(proxy.outbound, { host: 'echo', headers: { 'x-request-id': barrier, 'x-b3-sampled': '1' } })).status).toBe(200);
  await spansFor(barrier, 1);
  expect(otlp.spans.filter((s) => s.attributes['guid:x-request-id'] === rid)).toEqual([]);
}

/** Sends through `proxy` to the app and returns the headers the app received. */
async function viaProxy(proxy: MeshletProc, headers: Record<string, string>, path = '/'): Promise<IncomingHttpHeaders> {
  const before = app.received.length;
  const r = await send(proxy.outbound, { host: 'echo', path, headers });
  expect(r.status).toBe(200);
  expect(app.received.length).toBe(before + 1);
  return app.received.at(-1)!.headers;
}

describe('span tree across two sidecars', () => {
  it('A outbound is the root, B inbound its child, same trace id, ids equal the wire', async () => {
    const r = await send(a.outbound, { host: 'reviews', path: '/ok?q=1' });
    expect(r.status).toBe(200);
    const h = app.received.at(-1)!.headers;
    // A generated the request id once; B kept it.
    const rid = String(h['x-request-id']);
    expect(rid).toMatch(UUID4);
    const spans = await spansFor(rid, 2);
    expect(spans).toHaveLength(2);
    const sa = spans.find((s) => s.serviceName === 'productpage-v1')!;
    const sb = spans.find((s) => s.serviceName === 'reviews-v1')!;
    expect(sa.kind).toBe(CLIENT);
    expect(sb.kind).toBe(SERVER);
    // A root: one 64-bit id is trace id and span id (Envoy's Zipkin root), padded to 128 bits in OTLP.
    expect(sa.parentSpanId).toBe('');
    expect(sa.traceId).toBe(PAD + sa.spanId);
    expect(sb.traceId).toBe(sa.traceId);
    expect(sb.parentSpanId).toBe(sa.spanId);
    // What the app saw is B's span context, in 64-bit form.
    expect(h['x-b3-traceid']).toBe(sa.spanId);
    expect(h['x-b3-spanid']).toBe(sb.spanId);
    expect(h['x-b3-parentspanid']).toBe(sa.spanId);
    expect(h['x-b3-sampled']).toBe('1');
    for (const s of [sa, sb]) {
      expect(s.attributes).toMatchObject({
        'http.request.method': 'GET',
        'url.path': '/ok',
        'http.response.status_code': 200,
        'meshlet.retry_count': 0,
        'meshlet.response_flags': '-',
      });
      expect(s.statusCode).not.toBe(ERROR);
      expect(BigInt(s.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(s.startTimeUnixNano));
    }
    expect(sa.attributes['server.address']).toBe(`127.0.0.1:${b.inbound}`);
    expect(sb.attributes['server.address']).toBe(`127.0.0.1:${app.port}`);
    expect(sa.attributes['meshlet.destination']).toContain('reviews');
    expect(sa.attributes['meshlet.route']).toBeTruthy();
    expect(sb.attributes['meshlet.route']).toBe('inbound');
    expect(sb.attributes['meshlet.destination']).toMatch(/^inbound\|/);
    // A's span finished after B's: it contains it.
    expect(BigInt(sa.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(sb.endTimeUnixNano));
  });

  it('keeps an incoming 128-bit context: A is a child of the caller, B of A', async () => {
    const rid = `chain-${++seq}`;
    const r = await send(a.outbound, { host: 'reviews', headers: { 'x-request-id': rid, 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-sampled': '1' } });
    expect(r.status).toBe(200);
    const spans = await spansFor(rid, 2);
    const sa = spans.find((s) => s.serviceName === 'productpage-v1')!;
    const sb = spans.find((s) => s.serviceName === 'reviews-v1')!;
    expect(sa.traceId).toBe(T128);
    expect(sb.traceId).toBe(T128);
    expect(sa.parentSpanId).toBe(S);
    expect(sb.parentSpanId).toBe(sa.spanId);
    expect(app.received.at(-1)!.headers['x-request-id']).toBe(rid);
  });

  it('marks both spans as errors for a 5xx', async () => {
    const rid = `fail-${++seq}`;
    expect((await send(a.outbound, { host: 'reviews', path: '/fail', headers: { 'x-request-id': rid } })).status).toBe(500);
    const spans = await spansFor(rid, 2);
    expect(spans).toHaveLength(2);
    for (const s of spans) {
      expect(s.statusCode).toBe(ERROR);
      expect(s.attributes['http.response.status_code']).toBe(500);
    }
  });

  it('records the retry count on the caller span; each attempt is a server span under it', async () => {
    const rid = `flaky-${++seq}`;
    expect((await send(a.outbound, { host: 'reviews', path: '/flaky', headers: { 'x-request-id': rid } })).status).toBe(200);
    const spans = await spansFor(rid, 3);
    const sa = spans.filter((s) => s.serviceName === 'productpage-v1');
    const sb = spans.filter((s) => s.serviceName === 'reviews-v1');
    expect(sa).toHaveLength(1);
    expect(sa[0]!.attributes['meshlet.retry_count']).toBe(1);
    expect(sa[0]!.attributes['http.response.status_code']).toBe(200);
    expect(sa[0]!.statusCode).not.toBe(ERROR);
    expect(sb.map((s) => s.attributes['http.response.status_code']).sort()).toEqual([200, 503]);
    for (const s of sb) expect(s.parentSpanId).toBe(sa[0]!.spanId);
    expect(sb.find((s) => s.attributes['http.response.status_code'] === 503)!.statusCode).toBe(ERROR);
  });
});

describe('B3 through one sidecar', () => {
  it('no incoming context: a new 64-bit root, trace id = span id, sampled by the rate', async () => {
    const sampled = await viaProxy(a, {});
    expect(sampled['x-b3-traceid']).toMatch(HEX16);
    expect(sampled['x-b3-spanid']).toBe(sampled['x-b3-traceid']);
    expect(sampled['x-b3-parentspanid']).toBeUndefined();
    expect(sampled['x-b3-sampled']).toBe('1');
    const [span] = await spansFor(String(sampled['x-request-id']), 1);
    expect(span!.spanId).toBe(sampled['x-b3-spanid']);

    const unsampled = await viaProxy(b, {});
    expect(unsampled['x-b3-traceid']).toMatch(HEX16);
    expect(unsampled['x-b3-spanid']).toBe(unsampled['x-b3-traceid']);
    expect(unsampled['x-b3-sampled']).toBe('0');
    expect(unsampled['x-b3-traceid']).not.toBe(sampled['x-b3-traceid']);
    await expectNoSpan(String(unsampled['x-request-id']), b);
  });

  it.each([
    ['64-bit', T64],
    ['128-bit', T128],
  ])('keeps a %s trace id as is; new span id whose parent is the incoming span', async (_name, trace) => {
    const h = await viaProxy(a, { 'x-b3-traceid': trace, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-sampled': '1' });
    expect(h['x-b3-traceid']).toBe(trace);
    expect(h['x-b3-parentspanid']).toBe(S);
    expect(h['x-b3-spanid']).toMatch(HEX16);
    expect(h['x-b3-spanid']).not.toBe(S);
    expect(h['x-b3-sampled']).toBe('1');
  });

  it('reads the single b3 header and forwards the multi-header form only', async () => {
    const h = await viaProxy(a, { b3: `${T64}-${S}-1-${P}` });
    expect(h['x-b3-traceid']).toBe(T64);
    expect(h['x-b3-parentspanid']).toBe(S);
    expect(h['x-b3-spanid']).toMatch(HEX16);
    expect(h['x-b3-spanid']).not.toBe(S);
    expect(h['x-b3-sampled']).toBe('1');
    // Two disagreeing contexts must never reach the upstream.
    expect(h['b3']).toBeUndefined();
  });

  it('debug (x-b3-flags: 1) forces sampling even at rate 0 and is sent without x-b3-sampled', async () => {
    const rid = `debug-${++seq}`;
    const h = await viaProxy(b, { 'x-request-id': rid, 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-flags': '1' });
    expect(h['x-b3-flags']).toBe('1');
    expect(h['x-b3-sampled']).toBeUndefined();
    expect(h['x-b3-traceid']).toBe(T64);
    const [span] = await spansFor(rid, 1);
    expect(span!.parentSpanId).toBe(S);
    expect(span!.spanId).toBe(h['x-b3-spanid']);
  });

  it('deny (x-b3-sampled: 0) stays 0 even at rate 1, and nothing is exported', async () => {
    const rid = `deny-${++seq}`;
    const h = await viaProxy(a, { 'x-request-id': rid, 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '0' });
    expect(h['x-b3-sampled']).toBe('0');
    expect(h['x-b3-traceid']).toBe(T64);
    expect(h['x-b3-parentspanid']).toBe(S);
    await expectNoSpan(rid, a);
    // A lone deny without ids is honoured too.
    const rid2 = `deny-${++seq}`;
    const h2 = await viaProxy(a, { 'x-request-id': rid2, b3: '0' });
    expect(h2['x-b3-sampled']).toBe('0');
    await expectNoSpan(rid2, a);
  });

  it('defer (ids, no decision) stays defer on the wire: ids kept, new span, no x-b3-sampled invented', async () => {
    const a1 = await viaProxy(a, { 'x-b3-traceid': T64, 'x-b3-spanid': S });
    expect(a1['x-b3-sampled']).toBeUndefined();
    expect(a1['x-b3-traceid']).toBe(T64);
    expect(a1['x-b3-parentspanid']).toBe(S);
    expect(a1['x-b3-spanid']).not.toBe(S);
    const b1 = await viaProxy(b, { 'x-b3-traceid': T64, 'x-b3-spanid': S });
    expect(b1['x-b3-sampled']).toBeUndefined();
    expect(b1['x-b3-traceid']).toBe(T64);
  });

  it('x-request-id: kept when present, generated once (UUIDv4) when absent', async () => {
    const kept = await viaProxy(a, { 'x-request-id': 'caller-chose-this' });
    expect(kept['x-request-id']).toBe('caller-chose-this');
    const made = await viaProxy(b, {});
    expect(String(made['x-request-id'])).toMatch(UUID4);
    // Through both sidecars and a retry, the id generated by A is the one the app sees on every attempt.
    const before = app.received.length;
    expect((await send(a.outbound, { host: 'reviews', path: '/flaky' })).status).toBe(200);
    const attempts = app.received.slice(before);
    expect(attempts).toHaveLength(2);
    expect(String(attempts[0]!.headers['x-request-id'])).toMatch(UUID4);
    expect(attempts[1]!.headers['x-request-id']).toBe(attempts[0]!.headers['x-request-id']);
  });
});
