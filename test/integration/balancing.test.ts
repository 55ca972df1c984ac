// Traffic splits and load balancing through a real meshlet process.
import { Agent } from 'node:http';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, startMeshlet, tempConfig, type MeshletProc } from '../support/meshlet-process.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const procs: MeshletProc[] = [];
const ups: Upstream[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  await Promise.all(ups.splice(0).map((u) => u.close()));
});
afterAll(async () => undefined);

async function upstreams(n: number): Promise<Upstream[]> {
  const list = await Promise.all(Array.from({ length: n }, (_, i) => startUpstream(`u${i}`)));
  ups.push(...list);
  return list;
}

function dr(lb: string, subsets = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc }
spec:
  host: svc
  trafficPolicy: { loadBalancer: ${lb} }
${subsets}---
`;
}

async function count(mesh: MeshletProc, n: number, req: (i: number) => { path?: string; headers?: Record<string, string> } = () => ({})): Promise<Map<string, number>> {
  // 10 clients each sending one request after another: a steady concurrency of 10.
  const agent = new Agent({ keepAlive: true, maxSockets: 10 });
  const counts = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const r = await send(mesh.outbound, { host: 'svc', agent, ...req(i) });
      expect(r.status).toBe(200);
      const name = (JSON.parse(r.body) as { name: string }).name;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  agent.destroy();
  return counts;
}

describe('traffic split', () => {
  it('honours 80/20 weights exactly over 1000 requests', async () => {
    const [v1, v2] = await upstreams(2);
    const dir = tempConfig({
      'c.yaml':
        serviceEntry('svc', [v1!.port, v2!.port], { labels: [{ version: 'v1' }, { version: 'v2' }] }) +
        dr('{ simple: ROUND_ROBIN }', '  subsets:\n    - { name: v1, labels: { version: v1 } }\n    - { name: v2, labels: { version: v2 } }\n') +
        `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc }
spec:
  hosts: [svc]
  http:
    - route:
        - { destination: { host: svc, subset: v1 }, weight: 80 }
        - { destination: { host: svc, subset: v2 }, weight: 20 }
`,
    });
    const mesh = await startMeshlet(['--config', dir, '--access-log', 'off']);
    procs.push(mesh);
    const c = await count(mesh, 1000);
    expect(c.get('u0')).toBe(800);
    expect(c.get('u1')).toBe(200);
  });
});

describe('load balancing', () => {
  it('round robin is exactly even', async () => {
    const list = await upstreams(3);
    const dir = tempConfig({ 'c.yaml': serviceEntry('svc', list.map((u) => u.port)) + dr('{ simple: ROUND_ROBIN }') });
    const mesh = await startMeshlet(['--config', dir, '--access-log', 'off']);
    procs.push(mesh);
    const c = await count(mesh, 300);
    expect([...c.values()]).toEqual([100, 100, 100]);
  });

  it('least request steers away from a slow endpoint', async () => {
    const list = await upstreams(3);
    list[0]!.behaviour = (_req, res) => void setTimeout(() => res.end(JSON.stringify({ name: 'u0' })), 150);
    const dir = tempConfig({ 'c.yaml': serviceEntry('svc', list.map((u) => u.port)) + dr('{ simple: LEAST_REQUEST }') });
    const mesh = await startMeshlet(['--config', dir, '--access-log', 'off']);
    procs.push(mesh);
    const c = await count(mesh, 300);
    // The slow endpoint holds its requests for 150 ms; P2C sees its active count and avoids it.
    expect(c.get('u0') ?? 0).toBeLessThan(40);
    expect((c.get('u1') ?? 0) + (c.get('u2') ?? 0)).toBeGreaterThan(260);
  });

  it('consistent hash is sticky per header and moves about 1/N of keys when an endpoint leaves', async () => {
    // 5 → 4 endpoints keeps 256 points per endpoint on a 1024 ring (see ring-hash.ts: points per
    // endpoint only change when the ring crosses a power of two).
    const list = await upstreams(5);
    const lb = '{ consistentHash: { httpHeaderName: x-user, ringHash: { minimumRingSize: 1024 } } }';
    const dir = tempConfig({ 'c.yaml': serviceEntry('svc', list.map((u) => u.port)) + dr(lb) });
    const mesh = await startMeshlet(['--config', dir, '--access-log', 'off']);
    procs.push(mesh);
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const owner = async (): Promise<Map<string, string>> => {
      const m = new Map<string, string>();
      for (let i = 0; i < keys.length; i += 25) {
        const rs = await Promise.all(keys.slice(i, i + 25).map((k) => send(mesh.outbound, { host: 'svc', headers: { 'x-user': k } })));
        rs.forEach((r, j) => m.set(keys[i + j]!, (JSON.parse(r.body) as { name: string }).name));
      }
      return m;
    };
    const first = await owner();
    const again = await owner();
    expect(again).toEqual(first);
    // Drop the last endpoint and reload.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}/c.yaml`, serviceEntry('svc', list.slice(0, 4).map((u) => u.port)) + dr(lb));
    process.kill(mesh.proc.pid!, 'SIGHUP');
    const start = Date.now();
    let after = await owner();
    while ([...after.values()].includes('u4') && Date.now() - start < 5000) after = await owner();
    let moved = 0;
    for (const k of keys) if (first.get(k) !== after.get(k)) moved++;
    const removed = keys.filter((k) => first.get(k) === 'u4').length;
    // Only keys of the removed endpoint move (plus a small margin).
    expect(moved).toBeGreaterThanOrEqual(removed);
    expect(moved).toBeLessThanOrEqual(removed + keys.length * 0.05);
    expect(removed / keys.length).toBeGreaterThan(0.08);
    expect(removed / keys.length).toBeLessThan(0.35);
  });
});
