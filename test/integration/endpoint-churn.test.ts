// Per-endpoint state has an owner and an end. 10,000 cycles of "a new endpoint
// replaces the old one" (a rolling deploy, or DNS answers changing) through the
// real UpstreamRegistry, OutlierDetector and metrics, wired exactly as the
// proxy wires them (endpointRetirement from proxy/main.ts): every other
// endpoint is ejected before it leaves, and each serves one request with its
// own version label. Listeners on the shared rotation emitter, live breakers,
// Istio series, exposition size and heap must stay flat, and the cluster's
// ejected count never goes below 0 (a removed endpoint's breaker used to
// fire its half-open handler against its old cluster).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterModel, MeshConfig } from '../../proxy/config/model/index.js';
import { endpointRetirement } from '../../proxy/main.js';
import { MeshMetrics } from '../../proxy/observe/index.js';
import { makeExchange } from '../../proxy/observe/exchange-fixture.js';
import { OutlierDetector } from '../../proxy/upstream/outlier.js';
import { UpstreamRegistry } from '../../proxy/upstream/registry.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapMiB(): number {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed / 1048576;
}

const OD = { consecutive5xxErrors: 3, consecutiveGatewayErrors: 0, intervalMs: 10_000, baseEjectionTimeMs: 50, maxEjectionPercent: 100, minHealthPercent: 0 };

function config(i: number, extra: readonly ClusterModel[] = []): MeshConfig {
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const cluster: ClusterModel = {
    name: 'outbound|9080||svc.default.svc.cluster.local',
    host: 'svc.default.svc.cluster.local',
    port: 9080,
    discovery: 'static',
    endpoints: [{ address, port: 9080, labels: { app: 'svc', version: `v${i}` }, weight: 1 }],
    policy: { lb: { kind: 'round_robin' }, outlierDetection: OD },
  };
  return { version: String(i), services: [], clusters: [cluster, ...extra], virtualHosts: [] };
}

interface Rig {
  registry: UpstreamRegistry;
  outlier: OutlierDetector;
  metrics: MeshMetrics;
}

function rig(): Rig {
  const registry = new UpstreamRegistry({ dnsRefreshMs: 3_600_000 });
  const outlier = new OutlierDetector(() => undefined);
  const metrics = new MeshMetrics({ workload: 'client', namespace: 'default', defaultMetrics: false });
  registry.setRetirement(endpointRetirement(outlier, metrics));
  return { registry, outlier, metrics };
}

/** One churn cycle: endpoint i replaces i-1; it serves a request; odd ones are ejected before they go. */
function cycle(r: Rig, i: number): number {
  r.registry.sync(config(i)).prune();
  const c = r.registry.get('outbound|9080||svc.default.svc.cluster.local')!;
  const ep = c.endpoints[0]!;
  const ex = makeExchange('outbound');
  ex.destination = c.destination;
  ex.endpoint = ep;
  ex.status = 200;
  r.metrics.onComplete(ex);
  if (i % 2 === 1) for (let k = 0; k < 3; k++) r.outlier.record(c, ep, 503);
  else r.outlier.record(c, ep, 200);
  return c.ejected;
}

async function istioExposition(m: MeshMetrics): Promise<number> {
  return (await m.scrape()).split('\n').filter((l) => l.startsWith('istio_')).join('\n').length;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('per-endpoint state ends with its endpoint', () => {
  it('10,000 churn cycles: rotation listeners, breakers, series, exposition and heap stay flat; ejected never below 0', async () => {
    const r = rig();
    let minEjected = 0;
    for (let i = 0; i < 200; i++) minEjected = Math.min(minEjected, cycle(r, i));
    const before = { listeners: r.outlier.rotationListeners, breakers: r.outlier.breakers, series: r.metrics.istioSeries, exposition: await istioExposition(r.metrics), heap: heapMiB() };
    for (let i = 200; i < 10_200; i++) minEjected = Math.min(minEjected, cycle(r, i));
    const after = { listeners: r.outlier.rotationListeners, breakers: r.outlier.breakers, series: r.metrics.istioSeries, exposition: await istioExposition(r.metrics), heap: heapMiB() };
    process.stdout.write(`endpoint churn, before → after 10,000 cycles: ${JSON.stringify(before)} → ${JSON.stringify(after)}\n`);
    expect(after.listeners).toBeLessThanOrEqual(1);
    expect(after.breakers).toBeLessThanOrEqual(1);
    expect(after.series).toBe(before.series);
    // The one live series' counts may gain digits; its labels and lines do not multiply.
    expect(after.exposition).toBeLessThan(before.exposition * 1.1);
    // Leaking a breaker and four bound series per endpoint is tens of MiB over 10,000 cycles.
    expect(after.heap - before.heap).toBeLessThan(8);
    expect(minEjected).toBeGreaterThanOrEqual(0);
    r.registry.close();
    r.outlier.close();
  });

  it('an endpoint removed while ejected never drives the ejected count to -1, and a re-added one starts fresh', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const r = rig();
    r.registry.sync(config(1)).prune();
    const c = r.registry.get('outbound|9080||svc.default.svc.cluster.local')!;
    const first = c.endpoints[0]!;
    for (let k = 0; k < 3; k++) r.outlier.record(c, first, 503);
    expect(c.ejected).toBe(1);
    expect(r.outlier.stateOf(first)).toBe('open');
    // Replaced while ejected, then the old ejection time runs out.
    r.registry.sync(config(2)).prune();
    expect(c.ejected).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(c.ejected).toBe(0);
    expect(r.outlier.rotationListeners).toBe(0);
    // The same ip:port back again: a new endpoint with no history.
    r.registry.sync(config(1)).prune();
    const again = c.endpoints[0]!;
    expect(again).not.toBe(first);
    expect(again.available).toBe(true);
    expect(r.outlier.stateOf(again)).toBe('none');
    // Removing the whole cluster disposes its endpoints' state and series too.
    r.metrics.onComplete(Object.assign(makeExchange('outbound'), { destination: c.destination, endpoint: again, status: 200 }));
    for (let k = 0; k < 2; k++) r.outlier.record(c, again, 503);
    expect(r.outlier.rotationListeners).toBe(1);
    const other: ClusterModel = { ...config(3).clusters[0]!, name: 'outbound|9080||other.default.svc.cluster.local', host: 'other.default.svc.cluster.local' };
    r.registry.sync({ version: 'x', services: [], clusters: [other], virtualHosts: [] }).prune();
    expect(r.outlier.rotationListeners).toBe(0);
    expect(r.metrics.istioSeries).toBe(0);
    r.registry.close();
    r.outlier.close();
  });
});
