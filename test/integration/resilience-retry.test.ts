// Timeouts and retries through a real meshlet process and real upstreams that
// fail on purpose: route deadline (UT), retry to another endpoint, attempt
// counts, the safe default policy, connect-failure retries, body buffering
// limits, per-try timeouts and Retry-After.
import { describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, svcRoute } from '../support/meshlet-process.js';
import { closedPort, testScope } from '../support/scope.js';
import type { Behaviour, Upstream } from '../support/upstream.js';

const scope = testScope();
const upstream = scope.upstream;
const mesh = scope.meshlet;


const RR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc }
spec: { host: svc, trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } } }
---
`;

const status =
  (code: number, headers: Record<string, string> = {}): Behaviour =>
  (_req, res) => {
    res.writeHead(code, headers);
    res.end(String(code));
  };
const hang: Behaviour = () => undefined;
const attemptCounts = (u: Upstream): string[] => u.received.map((r) => String(r.headers['x-envoy-attempt-count']));

describe('route timeout', () => {
  it('answers 504 UT after about the configured time', async () => {
    const up = await upstream('slow', hang);
    const m = await mesh(serviceEntry('svc', [up.port]) + svcRoute('      timeout: 300ms\n'));
    const t0 = Date.now();
    const r = await send(m.outbound, { host: 'svc' });
    const took = Date.now() - t0;
    expect(r.status).toBe(504);
    expect(r.headers['x-meshlet-flags']).toContain('UT');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
  });

  it('covers all attempts: per-try timeouts and retries stop at the route deadline', async () => {
    const up = await upstream('slow', hang);
    const m = await mesh(serviceEntry('svc', [up.port]) + svcRoute('      timeout: 500ms\n      retries: { attempts: 5, perTryTimeout: 200ms, retryOn: 5xx }\n'));
    const t0 = Date.now();
    const r = await send(m.outbound, { host: 'svc' });
    const took = Date.now() - t0;
    expect(r.status).toBe(504);
    expect(r.headers['x-meshlet-flags']).toContain('UT');
    // 6 attempts × 200 ms would be 1.2 s; the deadline cuts it at 500 ms after 2 or 3 attempts.
    expect(took).toBeGreaterThanOrEqual(490);
    expect(took).toBeLessThan(1100);
    expect(up.received.length).toBeGreaterThanOrEqual(2);
    expect(up.received.length).toBeLessThanOrEqual(3);
  });
});

describe('retries', () => {
  it('a retried GET goes to the other endpoint (previous-host avoidance) and the upstream sees the attempt count', async () => {
    const bad = await upstream('bad', status(503));
    const good = await upstream('good');
    // RANDOM balancing with one retry: without previous-host avoidance about half the
    // retries would land on the bad endpoint again and fail.
    const random = RR.replace('ROUND_ROBIN', 'RANDOM');
    const m = await mesh(serviceEntry('svc', [bad.port, good.port]) + random + svcRoute('      retries: { attempts: 1, retryOn: 5xx }\n'));
    for (let i = 0; i < 40; i++) {
      const r = await send(m.outbound, { host: 'svc' });
      expect(r.status).toBe(200);
    }
    const k = bad.received.length;
    expect(k).toBeGreaterThan(5); // random picks: P(k <= 5 of 40) is about 1e-6
    expect(attemptCounts(bad)).toEqual(Array(k).fill('1'));
    expect(good.received.length).toBe(40);
    expect(attemptCounts(good).filter((c) => c === '2').length).toBe(k);
  });

  it('with one endpoint, retries it and counts attempts 1, 2, 3', async () => {
    const up = await upstream('flaky', (req, res, body, n) => (n <= 2 ? status(503)(req, res, body, n) : status(200)(req, res, body, n)));
    const m = await mesh(serviceEntry('svc', [up.port]) + svcRoute('      retries: { attempts: 3, retryOn: 5xx }\n'));
    const r = await send(m.outbound, { host: 'svc' });
    expect(r.status).toBe(200);
    expect(attemptCounts(up)).toEqual(['1', '2', '3']);
  });

  it("default policy (Istio 1.24+): a 503 is not retried, for GET or POST", async () => {
    const up = await upstream('always503', status(503));
    // No VirtualService: the catch-all route with Istio's default retry policy
    // (connect-failure, refused-stream, unavailable, cancelled; no status code).
    const m = await mesh(serviceEntry('svc', [up.port]));
    const get = await send(m.outbound, { host: 'svc' });
    expect(get.status).toBe(503);
    expect(up.received.length).toBe(1);
    up.received.length = 0;
    const post = await send(m.outbound, { host: 'svc', method: 'POST', body: 'order=1' });
    expect(post.status).toBe(503);
    expect(up.received.length).toBe(1);
    expect(up.received[0]!.body.toString()).toBe('order=1');
  });

  it('connect failure is retried on another endpoint by default, for POST too', async () => {
    const good = await upstream('good');
    const dead = await closedPort();
    const m = await mesh(serviceEntry('svc', [dead, good.port]) + RR);
    for (let i = 0; i < 10; i++) {
      const method = i % 2 === 0 ? 'GET' : 'POST';
      const r = await send(m.outbound, { host: 'svc', method, body: method === 'POST' ? `n=${i}` : undefined });
      expect(r.status).toBe(200);
    }
    expect(good.received.length).toBe(10);
    expect(good.received.filter((r) => r.method === 'POST').map((r) => r.body.toString())).toEqual(['n=1', 'n=3', 'n=5', 'n=7', 'n=9']);
  });

  it('replays a small POST body intact on retry; a body over --buffer-limit is streamed, arrives intact and is not retried', async () => {
    const up = await upstream('always503', status(503));
    const m = await mesh(serviceEntry('svc', [up.port]) + svcRoute('      retries: { attempts: 2, retryOn: 5xx }\n'), ['--buffer-limit', '1024']);
    const small = Buffer.alloc(1000, 7);
    for (let i = 0; i < small.length; i++) small[i] = (i * 31) & 0xff;
    const r1 = await send(m.outbound, { host: 'svc', method: 'POST', body: small });
    expect(r1.status).toBe(503);
    expect(up.received.length).toBe(3);
    for (const rec of up.received) expect(rec.body.equals(small)).toBe(true);

    up.received.length = 0;
    const big = Buffer.alloc(200 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    const r2 = await send(m.outbound, { host: 'svc', method: 'POST', body: big });
    expect(r2.status).toBe(503);
    expect(up.received.length).toBe(1);
    expect(up.received[0]!.body.equals(big)).toBe(true);
  });

  it('a per-try timeout retries on another endpoint when the first hangs', async () => {
    const slow = await upstream('slow', hang);
    const fast = await upstream('fast');
    const m = await mesh(serviceEntry('svc', [slow.port, fast.port]) + RR + svcRoute('      retries: { attempts: 2, perTryTimeout: 200ms, retryOn: 5xx }\n'));
    for (let i = 0; i < 4; i++) {
      const t0 = Date.now();
      const r = await send(m.outbound, { host: 'svc' });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ name: 'fast' });
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(190);
      expect(took).toBeLessThan(1500);
    }
    // Every first attempt hits the hanging endpoint (see above) and moves on after 200 ms.
    expect(slow.received.length).toBe(4);
    expect(fast.received.length).toBe(4);
    expect(attemptCounts(fast)).toEqual(['2', '2', '2', '2']);
  });

  it('honours Retry-After on a 503 before retrying', async () => {
    const up = await upstream('busy', (req, res, body, n) => (n === 1 ? status(503, { 'retry-after': '1' })(req, res, body, n) : status(200)(req, res, body, n)));
    const stamps: number[] = [];
    const inner = up.behaviour;
    up.behaviour = (req, res, body, n) => {
      stamps.push(Date.now());
      return inner(req, res, body, n);
    };
    const m = await mesh(serviceEntry('svc', [up.port]) + svcRoute('      retries: { attempts: 2, retryOn: 5xx }\n'));
    const r = await send(m.outbound, { host: 'svc' });
    expect(r.status).toBe(200);
    expect(stamps.length).toBe(2);
    const gap = stamps[1]! - stamps[0]!;
    expect(gap).toBeGreaterThanOrEqual(980);
    expect(gap).toBeLessThan(2500);
  });
});
