import { describe, expect, it } from 'vitest';
import type { ClusterModel, EndpointModel } from '../../proxy/config/model/index.js';
import { DnsResolver } from './dns-resolver.js';

const dnsCluster = (name: string, hosts: string[]): ClusterModel => ({
  name,
  host: name,
  port: 80,
  discovery: 'dns',
  endpoints: hosts.map((h) => ({ address: h, port: 8080, labels: { zone: 'a' }, weight: 2 })),
  policy: { lb: { kind: 'round_robin' } },
});

describe('DnsResolver', () => {
  it('reports each address as an endpoint, and only when the set changes', async () => {
    const answers = new Map<string, string[]>([['svc.example', ['10.0.0.2', '10.0.0.1']]]);
    const changes: [string, readonly EndpointModel[]][] = [];
    const r = new DnsResolver({ lookup: async (n) => answers.get(n) ?? [], onChange: (c, e) => changes.push([c, e]) });
    const static1: ClusterModel = { ...dnsCluster('static', ['1.2.3.4']), discovery: 'static' };
    await r.update([dnsCluster('c', ['svc.example']), static1]);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.[1]).toEqual([
      { address: '10.0.0.1', port: 8080, labels: { zone: 'a' }, weight: 2 },
      { address: '10.0.0.2', port: 8080, labels: { zone: 'a' }, weight: 2 },
    ]);
    answers.set('svc.example', ['10.0.0.1', '10.0.0.2']); // same set, rotated
    await r.refresh();
    expect(changes).toHaveLength(1);
    answers.set('svc.example', ['10.0.0.3']);
    await r.refresh();
    expect(changes).toHaveLength(2);
    expect(changes[1]?.[1].map((e) => e.address)).toEqual(['10.0.0.3']);
    r.close();
  });

  it('keeps the previous answer when a lookup fails', async () => {
    let fail = false;
    const errors: string[] = [];
    const changes: number[] = [];
    const r = new DnsResolver({
      lookup: async () => {
        if (fail) throw new Error('ENOTFOUND');
        return ['10.0.0.1'];
      },
      onChange: (_c, e) => changes.push(e.length),
      onError: (_c, name) => errors.push(name),
    });
    await r.update([dnsCluster('c', ['svc.example'])]);
    fail = true;
    await r.refresh();
    expect(changes).toEqual([1]);
    expect(errors).toEqual(['svc.example']);
    r.close();
  });
});
