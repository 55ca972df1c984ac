// Issue 10 item 11, closed by issue 15: x-meshlet-peer is trusted only on a
// verified mTLS connection, so forged values on plaintext label nothing and
// cannot add series (the LRU bound of peer-cache.ts still applies to genuine
// mTLS callers). Real sidecar, inbound listener, real app.
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
  // Since mTLS (issue 15) the header is trusted only on a verified mTLS connection: forged
  // values on plaintext make no series at all (the mTLS case: test/integration/mtls.test.ts).
  it('1,100 forged peers on plaintext: none is labelled, the series stay one', async () => {
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
    expect(inbound.some((l) => l.includes('source_workload="reviews-v2"') || l.includes('forged-'))).toBe(false);
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toContain('source_workload="unknown"');
  }, 120_000);
});
