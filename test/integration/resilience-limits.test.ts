// Concurrency limits through a real meshlet process: the retry budget stops a
// retry storm, and connectionPool limits overflow at once with 503 UO.
import { describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, until, type MeshletProc, svcRoute } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';
import type { Behaviour, Upstream } from '../support/upstream.js';

const scope = testScope();
const upstream = scope.upstream;
const mesh = (yaml: string): Promise<MeshletProc> => scope.meshlet(yaml);


function dr(trafficPolicy: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc }
spec: { host: svc, trafficPolicy: ${trafficPolicy} }
---
`;
}

interface Storm {
  /** Attempts the upstream received. */
  total: number;
  /** Most retry attempts (x-envoy-attempt-count > 1) the upstream held at once. */
  peakRetries: number;
}

/** An upstream that answers 503 after 100 ms (so concurrent requests overlap) and tracks retries in flight. */
async function slow503(): Promise<{ up: Upstream; storm: Storm }> {
  const storm: Storm = { total: 0, peakRetries: 0 };
  let retriesNow = 0;
  const up = await upstream('always503', (req, res) => {
    storm.total++;
    const retry = Number(req.headers['x-envoy-attempt-count']) > 1;
    if (retry) storm.peakRetries = Math.max(storm.peakRetries, ++retriesNow);
    setTimeout(() => {
      if (retry) retriesNow--;
      res.writeHead(503);
      res.end();
    }, 100);
  });
  return { up, storm };
}

describe('retry budget', () => {
  it('alone, a request spends all its retries; under load the budget (20% of active, min 3) caps concurrent retries', async () => {
    const { up, storm } = await slow503();
    const m = await mesh(serviceEntry('svc', [up.port]) + svcRoute('      retries: { attempts: 5, retryOn: 5xx }\n'));

    // Unlimited by the budget: one request at a time gets 1 + 5 attempts each.
    for (let i = 0; i < 3; i++) expect((await send(m.outbound, { host: 'svc' })).status).toBe(503);
    expect(storm.total).toBe(18);

    storm.total = 0;
    storm.peakRetries = 0;
    const N = 30;
    const replies = await Promise.all(Array.from({ length: N }, () => send(m.outbound, { host: 'svc' })));
    expect(replies.every((r) => r.status === 503)).toBe(true);
    // Without a budget this storm would be N × 6 = 180 attempts. The budget is
    // max(3, 20% of 30 active) = 6 concurrent retries; as requests finish it shrinks to 3.
    const budget = Math.max(3, Math.floor(N * 0.2));
    expect(storm.peakRetries).toBeLessThanOrEqual(budget);
    expect(storm.peakRetries).toBeGreaterThanOrEqual(3);
    expect(storm.total).toBeLessThanOrEqual(N + budget * 5);
    expect(storm.total).toBeGreaterThan(N);
  });

  it('connectionPool.http.maxRetries lowers the budget', async () => {
    const { up, storm } = await slow503();
    const m = await mesh(serviceEntry('svc', [up.port]) + dr('{ connectionPool: { http: { maxRetries: 1 } } }') + svcRoute('      retries: { attempts: 5, retryOn: 5xx }\n'));
    const replies = await Promise.all(Array.from({ length: 10 }, () => send(m.outbound, { host: 'svc' })));
    expect(replies.every((r) => r.status === 503)).toBe(true);
    expect(storm.peakRetries).toBe(1);
    // The request holding the single retry slot keeps it for all 5 of its retries.
    expect(storm.total).toBeGreaterThanOrEqual(10 + 5);
    expect(storm.total).toBeLessThanOrEqual(10 + 3 * 5);
  });

  it('DestinationRule retryBudget opens the budget: every request spends all its retries (no budget, as Istio without one)', async () => {
    const { up, storm } = await slow503();
    const N = 30;
    const m = await mesh(serviceEntry('svc', [up.port]) + dr(`{ retryBudget: { percent: 100, minRetryConcurrency: ${N} } }`) + svcRoute('      retries: { attempts: 5, retryOn: 5xx }\n'));
    const replies = await Promise.all(Array.from({ length: N }, () => send(m.outbound, { host: 'svc' })));
    expect(replies.every((r) => r.status === 503)).toBe(true);
    // The default budget would allow 6 concurrent retries (the test above); this one allows all 30.
    expect(storm.total).toBe(N * 6);
    expect(storm.peakRetries).toBeGreaterThan(6);
    expect(replies.every((r) => r.headers['x-meshlet-flags'] === 'URX')).toBe(true);
  });

  it('a retry over the budget is not made: the answer carries UO (Envoy retry overflow) and the metric counts it', async () => {
    const { up, storm } = await slow503();
    const m = await mesh(serviceEntry('svc', [up.port]) + dr('{ retryBudget: { percent: 0, minRetryConcurrency: 1 } }') + svcRoute('      retries: { attempts: 5, retryOn: 5xx }\n'));
    const replies = await Promise.all(Array.from({ length: 10 }, () => send(m.outbound, { host: 'svc' })));
    expect(replies.every((r) => r.status === 503)).toBe(true);
    expect(storm.peakRetries).toBe(1);
    const overflowed = replies.filter((r) => String(r.headers['x-meshlet-flags']).split(',').includes('UO'));
    expect(overflowed.length).toBeGreaterThanOrEqual(8);
    const text = (await send(m.metrics, { path: '/stats/prometheus' })).body;
    const exhausted = /meshlet_retry_budget_exhausted_total\{[^}]*\} (\d+)/.exec(text);
    expect(Number(exhausted?.[1] ?? 0)).toBeGreaterThanOrEqual(overflowed.length);
  });
});

/** An upstream that holds every request until released. */
async function holding(): Promise<{ up: Upstream; release: () => void }> {
  const held: (() => void)[] = [];
  const up = await upstream('held', (_req, res) => {
    held.push(() => res.end('released'));
  });
  const release = (): void => held.splice(0).forEach((f) => f());
  scope.onTeardown(release);
  return { up, release };
}

async function adminClusters(m: MeshletProc): Promise<{ name: string; active_requests: number }[]> {
  const r = await send(m.admin, { path: '/clusters' });
  return (JSON.parse(r.body) as { clusters: { name: string; active_requests: number }[] }).clusters;
}

describe('circuit breaking (connectionPool)', () => {
  it('http2MaxRequests: the request over the limit gets 503 UO with x-envoy-overloaded at once', async () => {
    const { up, release } = await holding();
    const m = await mesh(serviceEntry('svc', [up.port]) + dr('{ connectionPool: { http: { http2MaxRequests: 2 } } }'));
    const first = [send(m.outbound, { host: 'svc' }), send(m.outbound, { host: 'svc' })];
    await until(() => up.received.length === 2 || undefined);
    const t0 = Date.now();
    const over = await send(m.outbound, { host: 'svc' });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(over.status).toBe(503);
    expect(over.headers['x-envoy-overloaded']).toBe('true');
    expect(over.headers['x-meshlet-flags']).toBe('UO');
    expect(up.received.length).toBe(2);
    release();
    for (const r of await Promise.all(first)) expect(r.status).toBe(200);
    // Capacity is back once the held requests finished.
    up.behaviour = (_req, res) => void res.end('ok');
    expect((await send(m.outbound, { host: 'svc' })).status).toBe(200);
  });

  it('http1MaxPendingRequests with tcp.maxConnections: one in service, one pending, the next overflows', async () => {
    const { up, release } = await holding();
    const m = await mesh(serviceEntry('svc', [up.port]) + dr('{ connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } }'));
    const first = [send(m.outbound, { host: 'svc', path: '/a' })];
    await until(() => up.received.length === 1 || undefined);
    first.push(send(m.outbound, { host: 'svc', path: '/b' }));
    // The second waits in the proxy for the only connection.
    await until(async () => ((await adminClusters(m)).find((c) => c.name.includes('svc'))?.active_requests === 2 ? true : undefined));
    expect(up.received.length).toBe(1);
    const t0 = Date.now();
    const over = await send(m.outbound, { host: 'svc', path: '/c' });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(over.status).toBe(503);
    expect(over.headers['x-envoy-overloaded']).toBe('true');
    expect(over.headers['x-meshlet-flags']).toBe('UO');
    // Release the first; the pending one then gets the connection.
    up.behaviour = (_req, res) => void res.end('ok');
    release();
    for (const r of await Promise.all(first)) expect(r.status).toBe(200);
    expect(up.received.map((r) => r.url)).toEqual(['/a', '/b']);
  });
});
