import { describe, expect, it } from 'vitest';
import type { ClusterModel, EndpointModel, MeshConfig } from '../config/model/index.js';
import { applyEndpointDeltas } from './apply-endpoint-deltas.js';

const ep = (address: string, weight = 1): EndpointModel => ({ address, port: 80, labels: {}, weight });
const cluster = (endpoints: EndpointModel[], ring = false): ClusterModel => ({
  name: 'c',
  host: 'a',
  port: 80,
  discovery: 'static',
  endpoints,
  policy: { lb: ring ? { kind: 'ring_hash', hashKey: { kind: 'source_ip' }, tableSize: 1024 } : { kind: 'round_robin' } },
});
const running = (c: ClusterModel): MeshConfig => ({ version: 'v1', services: [], clusters: [c], virtualHosts: [] });

describe('applyEndpointDeltas', () => {
  it('removes, replaces in place and appends; the version is the new one', () => {
    const r = applyEndpointDeltas(running(cluster([ep('1.1.1.1'), ep('2.2.2.2'), ep('3.3.3.3')])), 'v2', [
      { cluster: 'c', upserts: JSON.stringify([ep('2.2.2.2', 5), ep('4.4.4.4')]), removed: [{ address: '1.1.1.1', port: 80 }] },
    ]);
    expect(r.ok && r.config.version).toBe('v2');
    expect(r.ok && r.config.clusters[0]!.endpoints).toEqual([ep('2.2.2.2', 5), ep('3.3.3.3'), ep('4.4.4.4')]);
  });
  const bad: { name: string; c?: ClusterModel; delta: { cluster: string; upserts: string; removed: { address: string; port: number }[] }; path: string }[] = [
    { name: 'unknown cluster', delta: { cluster: 'nope', upserts: '[]', removed: [] }, path: 'endpoint_deltas[0]' },
    { name: 'bad JSON', delta: { cluster: 'c', upserts: '[', removed: [] }, path: 'endpoint_deltas[0].upserts' },
    { name: 'bad endpoint', delta: { cluster: 'c', upserts: JSON.stringify([{ address: 'x', port: 0, labels: {}, weight: 1 }]), removed: [] }, path: 'endpoint_deltas[0].upserts[0].port' },
    { name: 'removing what is not there', delta: { cluster: 'c', upserts: '[]', removed: [{ address: '9.9.9.9', port: 80 }] }, path: 'endpoint_deltas[0].removed' },
    {
      name: 'ring hash over its maximum',
      c: cluster([ep('1.1.1.1')], true),
      delta: { cluster: 'c', upserts: JSON.stringify(Array.from({ length: 130 }, (_, i) => ep(`5.5.${i}.1`, 65_535))), removed: [] },
      path: 'endpoints',
    },
  ];
  for (const b of bad) {
    it(`refuses ${b.name} (nothing applied)`, () => {
      const r = applyEndpointDeltas(running(b.c ?? cluster([ep('1.1.1.1')])), 'v2', [b.delta]);
      expect(r.ok).toBe(false);
      expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual([b.path]);
    });
  }
});
