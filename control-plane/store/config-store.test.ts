import { describe, expect, it } from 'vitest';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import { ConfigStore } from './config-store.js';

const config = (weight: number, version: string): MeshConfig => ({
  version,
  services: [],
  clusters: [
    {
      name: 'outbound|80||svc.default.svc.cluster.local',
      host: 'svc.default.svc.cluster.local',
      port: 80,
      discovery: 'static',
      endpoints: Array.from({ length: 200 }, (_, i) => ({ address: `10.0.${i >> 8}.${i & 255}`, port: 80, labels: {}, weight })),
      policy: { lb: { kind: 'ring_hash', hashKey: { kind: 'header', name: 'x' }, tableSize: 1024 } },
    },
  ],
  virtualHosts: [],
});

describe('ConfigStore: validate before push', () => {
  it('refuses a config every sidecar would NACK, keeps the last good one and reports why', () => {
    const changes: number[] = [];
    const store = new ConfigStore((c) => changes.push(c.generation));
    expect(store.setConfig(config(10, 'good'))).toEqual([]);
    expect(changes).toEqual([1]);
    // 200 endpoints × weight 60,000 = 12M ring points: translate cannot see it, the model check does.
    const refused = store.setConfig(config(60_000, 'bad'));
    expect(refused).toEqual([expect.objectContaining({ resource: 'Cluster/outbound|80||svc.default.svc.cluster.local', reason: expect.stringMatching(/ring hash of more than 8388608 points/) })]);
    expect(changes).toEqual([1]); // nothing pushed
    expect(store.current()?.clusters[0]?.endpoints[0]?.weight).toBe(10);
    expect(store.issues()).toEqual(refused);
  });
});
