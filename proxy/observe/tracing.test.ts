import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flag } from '../errors/index.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.js';
import type { HeaderBag } from './b3.js';
import { destination, endpoint, makeExchange } from './exchange-fixture.js';
import { resolveExportEndpoint, Tracing } from './tracing.js';
import { ensureRequestId, requestIdFrom } from './request-id.js';
import { seededRandom as seeded } from '../../test/support/seeded-random.js';

const T64 = '463ac35c9f6413ad';
const T128 = '463ac35c9f6413ad48485a3953bb6124';
const S = 'a2fb4a1d1a96d312';
const P = '0020000000000001';
const MULTI = { multi: true, single: false, w3c: false };


describe('Tracing without export (propagation only)', () => {
  it('root request starts a trace: trace id = span id, no parent, decision propagated', async () => {
    const t = await Tracing.create({ sampleRate: 1, inject: MULTI, serviceName: 's', env: {} });
    expect(t.exporting).toBe(false);
    const ex = makeExchange('outbound');
    const h: HeaderBag = {};
    t.onStart(ex, h);
    expect(h['x-b3-traceid']).toMatch(/^[0-9a-f]{16}$/);
    expect(h['x-b3-spanid']).toBe(h['x-b3-traceid']);
    expect(h['x-b3-parentspanid']).toBeUndefined();
    expect(h['x-b3-sampled']).toBe('1');
    expect(ex.span).toBeUndefined();
    t.onComplete(ex);
  });

  it.each<[string, IncomingHttpHeaders, number, string | undefined, string | undefined]>([
    ['incoming sampled=1 honoured at rate 0', { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '1' }, 0, '1', undefined],
    ['incoming deny honoured at rate 1', { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '0' }, 1, '0', undefined],
    ['b3: 0 honoured, new ids minted', { b3: '0' }, 1, '0', undefined],
    ['defer stays defer on the wire (rate 1)', { 'x-b3-traceid': T64, 'x-b3-spanid': S }, 1, undefined, undefined],
    ['defer stays defer on the wire (rate 0)', { 'x-b3-traceid': T64, 'x-b3-spanid': S }, 0, undefined, undefined],
    ['debug forces and stays debug', { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-flags': '1' }, 0, undefined, '1'],
  ])('%s', async (_n, headers, rate, sampled, flags) => {
    const t = await Tracing.create({ sampleRate: rate, inject: MULTI, serviceName: 's', env: {} });
    const ex = makeExchange('outbound', headers);
    const h: HeaderBag = {};
    t.onStart(ex, h);
    expect(h['x-b3-sampled']).toBe(sampled);
    expect(h['x-b3-flags']).toBe(flags);
    if (headers['x-b3-traceid'] !== undefined) {
      expect(h['x-b3-traceid']).toBe(T64);
      expect(h['x-b3-parentspanid']).toBe(S);
      expect(h['x-b3-spanid']).not.toBe(S);
      expect(ex.trace?.spanId).toBe(S);
    } else {
      expect(h['x-b3-traceid']).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('samples roughly at the configured rate with a seeded RNG', async () => {
    const t = await Tracing.create({ sampleRate: 0.1, inject: MULTI, serviceName: 's', env: {}, random: seeded(42) });
    let n = 0;
    for (let i = 0; i < 5000; i++) {
      const h: HeaderBag = {};
      t.onStart(makeExchange('outbound'), h);
      if (h['x-b3-sampled'] === '1') n++;
    }
    expect(n).toBeGreaterThan(430);
    expect(n).toBeLessThan(570);
  });

  it('resolves the export endpoint from options and env', () => {
    expect(resolveExportEndpoint({ serviceName: 's', env: {} })).toEqual({ url: undefined, enabled: false });
    expect(resolveExportEndpoint({ serviceName: 's', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' } })).toEqual({ url: undefined, enabled: true });
    expect(resolveExportEndpoint({ serviceName: 's', exportEndpoint: 'http://c:4318/' })).toEqual({ url: 'http://c:4318/v1/traces', enabled: true });
    expect(resolveExportEndpoint({ serviceName: 's', exportEndpoint: 'http://c:4318/v1/traces' })).toEqual({ url: 'http://c:4318/v1/traces', enabled: true });
  });
});

describe('Tracing with the real SDK exporting to an OTLP receiver', () => {
  let rx: OtlpReceiver;
  let t: Tracing;
  beforeAll(async () => {
    rx = await startOtlpReceiver();
    t = await Tracing.create({ sampleRate: 0, inject: { multi: true, single: true, w3c: true }, serviceName: 'meshlet-test', exportEndpoint: rx.url, env: {} });
  });
  afterAll(async () => {
    await t.shutdown();
    await rx.close();
  });

  it('exported span ids equal the ids injected upstream; unsampled exports nothing', async () => {
    const before = rx.spans.length;
    // 1) sampled outbound with a 128-bit incoming trace and a parent
    const ex = makeExchange('outbound', { 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-sampled': '1' }, 'POST');
    ex.path = '/api/reviews/1';
    ex.routeName = 'reviews-v2';
    ex.destination = destination('reviews');
    const h: HeaderBag = {};
    t.onStart(ex, h);
    ex.endpoint = endpoint('10.0.0.7:9080', 'reviews', 'v2');
    ex.status = 503;
    ex.flags = Flag.UF | Flag.URX;
    ex.attempts = 3;
    ex.durationMs = 12;
    t.onComplete(ex);
    // 2) sampled inbound root with a 64-bit id
    const root = makeExchange('inbound', { 'x-b3-sampled': '1' });
    const h2: HeaderBag = {};
    t.onStart(root, h2);
    root.status = 200;
    t.onComplete(root);
    // 3) unsampled: no span
    const off = makeExchange('outbound', { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '0' });
    t.onStart(off, {});
    expect(off.span).toBeUndefined();
    t.onComplete(off);
    await t.flush();
    const spans = await rx.waitForSpans(before + 2);
    expect(spans.length).toBe(before + 2);

    const client = spans.find((s) => s.spanId === h['x-b3-spanid']);
    expect(client).toBeDefined();
    expect(client!.traceId).toBe(T128);
    expect(client!.parentSpanId).toBe(S);
    expect(h['x-b3-parentspanid']).toBe(S);
    expect(h['b3']).toBe(`${T128}-${h['x-b3-spanid']}-1-${S}`);
    expect(h['traceparent']).toBe(`00-${T128}-${h['x-b3-spanid']}-01`);
    expect(client!.kind).toBe(3); // CLIENT
    expect(client!.statusCode).toBe(2); // ERROR
    expect(client!.serviceName).toBe('meshlet-test');
    expect(client!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/api/reviews/1',
      'http.response.status_code': 503,
      'server.address': '10.0.0.7:9080',
      'meshlet.route': 'reviews-v2',
      'meshlet.destination': 'outbound|9080||reviews.default.svc.cluster.local',
      'meshlet.retry_count': 2,
      'meshlet.response_flags': 'UF,URX',
    });

    const server = spans.find((s) => s.spanId === h2['x-b3-spanid']);
    expect(server).toBeDefined();
    // A 64-bit root is padded for OTel only; the wire keeps 64 bits.
    expect(h2['x-b3-traceid']).toHaveLength(16);
    expect(server!.traceId).toBe(`0000000000000000${h2['x-b3-traceid']}`);
    expect(server!.parentSpanId).toBe('');
    expect(server!.kind).toBe(2); // SERVER
    expect(server!.statusCode).toBe(0);
  });
});

describe('x-request-id', () => {
  it('keeps an incoming id unchanged and generates a UUIDv4 once otherwise', () => {
    expect(requestIdFrom({ 'x-request-id': 'abc-123' })).toBe('abc-123');
    const ex = makeExchange('outbound');
    const h: HeaderBag = {};
    const id = ensureRequestId(ex, h);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(h['x-request-id']).toBe(id);
    expect(ensureRequestId(ex)).toBe(id);
    const kept = makeExchange('inbound', { 'x-request-id': 'from-caller' });
    expect(ensureRequestId(kept, h)).toBe('from-caller');
    expect(h['x-request-id']).toBe('from-caller');
  });
});
