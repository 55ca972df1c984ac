import { describe, expect, it } from 'vitest';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import { buildNodeSnapshot, SnapshotBuilder } from './node-snapshot.js';

const cluster = { name: 'outbound|80||a', host: 'a', port: 80, discovery: 'static' as const, endpoints: [], policy: { lb: { kind: 'round_robin' as const } } };
const vh = (fault: boolean) => ({
  name: 'a',
  domains: ['a'],
  source: 'VirtualService/default/a',
  routes: [{ name: 'r', match: [], action: { kind: 'direct' as const, status: 200 }, ...(fault ? { fault: { abort: { httpStatus: 503, percent: 50 } } } : {}) }],
});
const config = (fault = false, version = 'g1'): MeshConfig => ({ version, services: [], clusters: [cluster], virtualHosts: [vh(fault)] });

describe('buildNodeSnapshot', () => {
  it('version depends only on content (not on generation, object identity or node)', () => {
    const a = buildNodeSnapshot(config(false, 'g1'), { id: 'x', workload: '', namespace: '', labels: {} });
    const b = buildNodeSnapshot(config(false, 'g2'), undefined);
    expect(a.version).toBe(b.version);
    expect(a.version).toMatch(/^[0-9a-f]{16}$/);
    expect(buildNodeSnapshot(config(true), undefined).version).not.toBe(a.version);
  });
  const ttlCases = [
    { name: 'no TTL configured', fault: true, ttl: 0, want: [0, 0], hasTtl: false },
    { name: 'TTL only on hosts with experiments', fault: false, ttl: 5000, want: [0, 0], hasTtl: false },
    { name: 'TTL on a host with a fault', fault: true, ttl: 5000, want: [0, 5000], hasTtl: true },
  ];
  for (const c of ttlCases) {
    it(c.name, () => {
      const s = buildNodeSnapshot(config(c.fault), undefined, { faultTtlMs: c.ttl });
      expect(s.resources.map((r) => r.ttlMs)).toEqual(c.want);
      expect(s.hasTtl).toBe(c.hasTtl);
    });
  }
  it('the TTL is part of the version', () => {
    expect(buildNodeSnapshot(config(true), undefined, { faultTtlMs: 5000 }).version).not.toBe(buildNodeSnapshot(config(true), undefined).version);
  });
  it('SnapshotBuilder caches per config object', () => {
    const b = new SnapshotBuilder();
    const c = config();
    expect(b.build(c, undefined)).toBe(b.build(c, undefined));
    expect(b.build(config(), undefined)).not.toBe(b.build(c, undefined));
  });
});
