// End-to-end scenarios on the pod rig: real bookinfo apps, real Meshlet
// sidecars under Istio's interception rules, a real control plane, an OTLP
// sink and Prometheus, all in network namespaces on one bridge. One shared
// mesh (bring-up is the expensive part); tests run in order and each leaves
// the mesh as it found it. Needs root; skips loudly otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../support/meshlet-process.js';
import { PodRig } from '../rig/index.js';
import { MESH_PODS, MeshRig, NODE_IP, OTLP_PORT } from '../mesh-rig.js';
import { prometheusInstalled, promQuery, promTargetsUp, startPrometheus, sumSamples } from '../mesh/prom.js';
import type { ReceivedSpan } from '../../support/otlp-receiver.js';

const avail = await PodRig.available();
if (!avail.ok) console.warn(`\n!!! E2E SKIPPED: test/e2e/scenarios/mesh.test.ts: pod rig unavailable: ${avail.why ?? '?'} !!!\n`);
const havePrometheus = avail.ok && (await prometheusInstalled());
if (avail.ok && !havePrometheus) console.warn('\n!!! E2E SKIPPED (scenario 7 only): no `prometheus` binary (apt-get install -y --no-install-recommends prometheus) !!!\n');

const PRODUCTPAGE = 'productpage-v1';
const REVIEWS_URL = 'http://reviews:9080/reviews/0';

describe.skipIf(!avail.ok)('mesh in the pod rig: apps, real sidecars, control plane', () => {
  const mesh = new MeshRig();
  const t0 = performance.now();
  const took: Record<string, number> = {};

  beforeAll(async () => {
    try {
      await mesh.up();
      if (havePrometheus) mesh.prometheus = startPrometheus(mesh, MESH_PODS);
    } catch (err) {
      await mesh.down(true);
      throw new Error(`mesh bring-up failed (logs kept in ${mesh.work}): ${(err as Error).message}`);
    }
  }, 90_000);

  afterAll(async () => {
    await mesh.down();
    took['total'] = performance.now() - t0;
    const ms = (o: Record<string, number>): string => JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)])));
    console.info(`mesh e2e timing (ms): bring-up ${ms(mesh.timing)} scenarios ${ms(took)}`);
  }, 30_000);

  const timed = (name: string, fn: () => Promise<void>) => async () => {
    const s = performance.now();
    try {
      await fn();
    } finally {
      took[name] = performance.now() - s;
    }
  };

  it('1. intercepts the apps\' plain calls: both sidecars on every hop report and log them', timed('intercept', async () => {
    const rid = 'e2e-intercept-1';
    // From the node, like an ingress: the pod IP's port 9080 is redirected to productpage's inbound sidecar.
    const r = await mesh.nodeGet(`http://10.244.0.10:9080/productpage`, 10_000);
    expect(r.status, r.body).toBe(200);
    const page = JSON.parse(r.body) as { reviews: { pod: string }; details: { pod: string } };
    expect(page.details.pod).toBe('details-v1');
    expect(['reviews-v1', 'reviews-v2']).toContain(page.reviews.pod);
    // The app dialled http://reviews:9080 (a VIP nobody answers) with no proxy settings; only the sidecars could route it.
    const direct = await mesh.load(PRODUCTPAGE, { url: REVIEWS_URL, count: 1, concurrency: 1, requestIdPrefix: rid });
    expect(direct.ok, JSON.stringify(direct)).toBe(1);
    const callee = Object.keys(direct.pods)[0]!;
    const src = await mesh.scrape(PRODUCTPAGE);
    expect(sumSamples(src, 'istio_requests_total', { reporter: 'source', source_workload: PRODUCTPAGE, destination_service_name: 'reviews', response_code: '200' })).toBeGreaterThanOrEqual(2);
    const dst = await mesh.scrape(callee);
    expect(sumSamples(dst, 'istio_requests_total', { reporter: 'destination', source_workload: PRODUCTPAGE, destination_workload: callee, response_code: '200' })).toBeGreaterThanOrEqual(1);
    // One access-log line on each side for the same request id.
    const id = `${rid}-0`;
    const out = await until(() => mesh.accessLog(PRODUCTPAGE).find((e) => e['x_request_id'] === id), 10_000);
    const inn = await until(() => mesh.accessLog(callee).find((e) => e['x_request_id'] === id), 10_000);
    expect(out).toMatchObject({ direction: 'outbound', response_code: 200, authority: 'reviews:9080' });
    expect(String(out['upstream_host'])).toBe(`${mesh.pod(callee).ip}:9080`);
    expect(inn).toMatchObject({ direction: 'inbound', response_code: 200 });
  }));
});
