import { describe, expect, it } from 'vitest';
import type { ClusterModel, EndpointModel, MeshConfig } from '../../proxy/config/model/index.js';
import { endpointDelta } from './endpoint-delta.js';
import { buildNodeSnapshot } from './node-snapshot.js';

const ep = (address: string, labels: Record<string, string> = {}): EndpointModel => ({ address, port: 80, labels, weight: 1 });
const cluster = (endpoints: EndpointModel[], lb: 'round_robin' | 'random' = 'round_robin'): ClusterModel => ({ name: 'outbound|80||a', host: 'a', port: 80, discovery: 'static', endpoints, policy: { lb: { kind: lb } } });
const config = (c: ClusterModel, timeoutMs?: number): MeshConfig => ({
  version: 'x',
  services: [],
  clusters: [c],
  virtualHosts: [{ name: 'a', domains: ['a'], source: 's', routes: [{ name: 'r', match: [], action: { kind: 'forward', destinations: [{ host: 'a', port: 80, weight: 1 }] }, ...(timeoutMs ? { timeoutMs } : {}) }] }],
});
const snap = (c: MeshConfig) => buildNodeSnapshot(c, undefined);
const many = Array.from({ length: 50 }, (_, i) => ep(`10.0.0.${i}`));

describe('endpointDelta', () => {
  it('an added, a removed and a relabelled endpoint', () => {
    const next = [...many.slice(1), ep('10.0.1.1')];
    next[3] = ep(next[3]!.address, { version: 'v2' });
    const d = endpointDelta(snap(config(cluster(many))), snap(config(cluster(next))));
    expect(d).toHaveLength(1);
    expect(d![0]!.removed).toEqual([{ address: '10.0.0.0', port: 80 }]);
    expect(JSON.parse(d![0]!.upserts)).toEqual([ep('10.0.0.4', { version: 'v2' }), ep('10.0.1.1')]);
  });
  const whole: { name: string; to: MeshConfig }[] = [
    { name: 'a route changed', to: config(cluster(many), 5000) },
    { name: 'a cluster policy changed', to: config(cluster(many.slice(1), 'random')) },
    { name: 'a cluster added', to: { ...config(cluster(many)), clusters: [cluster(many), { ...cluster(many), name: 'outbound|80|v1|a', subset: 'v1' }] } },
    { name: 'duplicate address+port (no key to diff by)', to: config(cluster([...many, ep('10.0.0.1')])) },
  ];
  for (const c of whole) {
    it(`whole snapshot when ${c.name}`, () => {
      expect(endpointDelta(snap(config(cluster(many))), snap(c.to))).toBeUndefined();
    });
  }
});
