import { describe, expect, it } from 'vitest';
import type { MeshConfig, VirtualHostModel } from '../config/model/index.js';
import { decodeSnapshot, withoutExpired, type WireResource } from './decode-snapshot.js';

const vh = (routes: unknown[]): string => JSON.stringify({ name: 'vh', domains: ['a'], routes, source: 's' });
const route = (extra: object): object => ({ name: 'r', match: [], action: { kind: 'direct', status: 200 }, ...extra });

describe('decodeSnapshot', () => {
  const cases: { name: string; resources: WireResource[]; ok: boolean; reason?: RegExp; counts?: [number, number, number] }[] = [
    { name: 'empty snapshot', resources: [], ok: true, counts: [0, 0, 0] },
    {
      name: 'one of each kind',
      resources: [
        { kind: 'service', name: 's', body: '{"host":"h"}', ttlMs: 0 },
        { kind: 'cluster', name: 'c', body: '{"name":"c"}', ttlMs: 0 },
        { kind: 'virtual_host', name: 'vh', body: vh([]), ttlMs: 0 },
      ],
      ok: true,
      counts: [1, 1, 1],
    },
    { name: 'unknown kinds are ignored', resources: [{ kind: 'listener', name: 'l', body: '{}', ttlMs: 0 }], ok: true, counts: [0, 0, 0] },
    { name: 'bad JSON', resources: [{ kind: 'cluster', name: 'c', body: '{', ttlMs: 0 }], ok: false, reason: /invalid JSON/ },
    { name: 'non-object body', resources: [{ kind: 'cluster', name: 'c', body: '[1]', ttlMs: 0 }], ok: false, reason: /JSON object/ },
    {
      name: 'duplicate names',
      resources: [
        { kind: 'cluster', name: 'c', body: '{}', ttlMs: 0 },
        { kind: 'cluster', name: 'c', body: '{}', ttlMs: 0 },
      ],
      ok: false,
      reason: /duplicate/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = decodeSnapshot('v1', c.resources, 1000);
      expect(r.ok).toBe(c.ok);
      if (r.ok && c.counts) expect([r.config.services.length, r.config.clusters.length, r.config.virtualHosts.length]).toEqual(c.counts);
      if (!r.ok && c.reason) expect(r.issues[0]?.reason).toMatch(c.reason);
    });
  }

  it('stamps TTL onto faults and mirrors and reports the earliest expiry', () => {
    const body = vh([route({ fault: { abort: { httpStatus: 503, percent: 100 } } }), route({ mirrors: [{ host: 'm', percent: 10, shadowSuffix: true, expiresAt: 1500 }] }), route({})]);
    const r = decodeSnapshot('v1', [{ kind: 'virtual_host', name: 'vh', body, ttlMs: 2000 }], 1000);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const routes = r.config.virtualHosts[0]?.routes ?? [];
    expect(routes[0]?.fault?.expiresAt).toBe(3000);
    expect(routes[1]?.mirrors?.[0]?.expiresAt).toBe(1500); // an earlier absolute expiry wins
    expect('fault' in (routes[2] ?? {})).toBe(false);
    expect(r.expiresAt).toBe(1500);
  });

  it('reports absolute expiries set by the control plane even without a TTL', () => {
    const r = decodeSnapshot('v1', [{ kind: 'virtual_host', name: 'vh', body: vh([route({ fault: { delay: { fixedDelayMs: 5, percent: 1 }, expiresAt: 42 } })]), ttlMs: 0 }], 0);
    expect(r.ok && r.expiresAt).toBe(42);
  });
});

describe('withoutExpired', () => {
  it('drops expired faults and mirrors, keeps live ones, and marks the version', () => {
    const vhModel = JSON.parse(
      vh([route({ fault: { abort: { httpStatus: 503, percent: 100 }, expiresAt: 10 } }), route({ fault: { abort: { httpStatus: 500, percent: 1 }, expiresAt: 99 }, mirrors: [{ host: 'm', percent: 1, shadowSuffix: true, expiresAt: 10 }] })]),
    ) as VirtualHostModel;
    const config: MeshConfig = { version: 'v1', services: [], clusters: [], virtualHosts: [vhModel] };
    const out = withoutExpired(config, 50);
    const routes = out.virtualHosts[0]?.routes ?? [];
    expect(routes[0]?.fault).toBeUndefined();
    expect(routes[1]?.fault?.expiresAt).toBe(99);
    expect(routes[1]?.mirrors).toBeUndefined();
    expect(out.version).toBe('v1~expired');
    expect(config.virtualHosts[0]?.routes[0]?.fault).toBeDefined(); // input untouched
  });
});
