// Issue 10 item 11: x-meshlet-peer can be forged until mTLS carries
// identity; its label cardinality is bounded by recency (LRU), so 1,100 forged
// values cannot push a genuine caller that arrives afterwards into `unknown`,
// and the series count stays bounded. Real sidecar, inbound listener, real app.
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, startMeshlet, tempConfig, type MeshletProc } from '../support/meshlet-process.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let app: Upstream;
let mesh: MeshletProc;

beforeAll(async () => {
  app = await startUpstream('app');
  mesh = await startMeshlet(['--config', tempConfig({ 'se.yaml': serviceEntry('svc', [app.port]) }), '--access-log', 'off', '--app-port', String(app.port), '--labels', 'app=ratings,version=v1']);
}, 30_000);
afterAll(async () => {
  await mesh?.stop();
  await app?.close();
});

describe('x-meshlet-peer cardinality', () => {
  it('1,100 forged peers, then a genuine caller: it is labelled as itself, and series stay bounded', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const forged = Array.from({ length: 1100 }, (_, i) => `forged-${i};evil;forged-${i};v1`);
    for (let i = 0; i < forged.length; i += 16) {
      await Promise.all(forged.slice(i, i + 16).map((p) => send(mesh.inbound, { host: 'ratings', agent, headers: { 'x-meshlet-peer': p } })));
    }
    const r = await send(mesh.inbound, { host: 'ratings', agent, headers: { 'x-meshlet-peer': 'reviews-v2;default;reviews;v2' } });
    expect(r.status).toBe(200);
    agent.destroy();
    const text = (await send(mesh.metrics, { path: '/stats/prometheus' })).body;
    const inbound = text.split('\n').filter((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="destination"'));
    expect(inbound.some((l) => l.includes('source_workload="reviews-v2"') && l.includes('source_version="v2"'))).toBe(true);
    expect(inbound.filter((l) => l.includes('source_workload="unknown"'))).toEqual([]);
    // At most 1,024 peers are labelled at a time (the oldest forged ones were evicted with their series).
    expect(inbound.length).toBeLessThanOrEqual(1024);
    expect(inbound.length).toBeGreaterThan(1000);
  }, 120_000);
});
