import { describe, expect, it } from 'vitest';
import { mergeClusters, mergeConfigDumps } from './merge-views.js';

const ep = (address: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  address,
  available: true,
  state: 'healthy',
  breaker: 'closed',
  active_requests: 1,
  requests_total: 10,
  errors_total: 1,
  connections: 2,
  ...over,
});
const cluster = (name: string, endpoints: Record<string, unknown>[], over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  lb: 'least_request',
  active_requests: 2,
  requests_total: 20,
  ejected: 0,
  panic: false,
  endpoints,
  ...over,
});

describe('mergeClusters', () => {
  it('sums counters and in-flight gauges per cluster and endpoint; availability needs every worker', () => {
    const w1 = { clusters: [cluster('a', [ep('1.1.1.1:80'), ep('2.2.2.2:80')])] };
    const w2 = { clusters: [cluster('a', [ep('1.1.1.1:80', { available: false, breaker: 'open' }), ep('2.2.2.2:80')], { ejected: 1 }), cluster('b', [ep('3.3.3.3:80')])] };
    const m = mergeClusters([w1, w2]) as { workers: number; clusters: { name: string; requests_total: number; ejected: number; endpoints: Record<string, unknown>[] }[] };
    expect(m.workers).toBe(2);
    expect(m.clusters.map((c) => c.name)).toEqual(['a', 'b']);
    const a = m.clusters[0]!;
    expect(a.requests_total).toBe(40);
    expect(a.ejected).toBe(1);
    expect(a.endpoints[0]).toMatchObject({ address: '1.1.1.1:80', requests_total: 20, active_requests: 2, errors_total: 2, connections: 4, available: false });
    expect(a.endpoints[0]!['by_worker']).toEqual([
      { available: true, state: 'healthy', breaker: 'closed' },
      { available: false, state: 'healthy', breaker: 'open' },
    ]);
    expect(a.endpoints[1]).toMatchObject({ available: true, requests_total: 20 });
    expect(a.endpoints[1]!['by_worker']).toBeUndefined();
    expect(m.clusters[1]!.requests_total).toBe(20);
  });
});

describe('mergeConfigDumps', () => {
  const workers = [
    { id: 1, pid: 11 },
    { id: 2, pid: 12 },
  ];
  it('one version when every worker has it', () => {
    const d = mergeConfigDumps([{ version: 'v1', applied_at: 5, last_rejection: null, config: { x: 1 } }, { version: 'v1', applied_at: 7, last_rejection: null, config: { x: 1 } }], workers);
    expect(d).toMatchObject({ version: 'v1', applied_at: 7, last_rejection: null, config: { x: 1 } });
    expect(d['workers']).toEqual([
      { worker: 1, pid: 11, version: 'v1', applied_at: 5, last_rejection: null },
      { worker: 2, pid: 12, version: 'v1', applied_at: 7, last_rejection: null },
    ]);
  });
  it('version null when workers disagree; a rejection on any worker shows', () => {
    const d = mergeConfigDumps([{ version: 'v1', config: {} }, { version: 'v2', last_rejection: { version: 'v3' }, config: {} }], workers);
    expect(d['version']).toBeNull();
    expect(d['last_rejection']).toEqual({ version: 'v3' });
  });
});
