// The Kubernetes source end to end in one process: the real
// @kubernetes/client-node informers against the fake API server (a test
// double speaking the real list/watch protocol, test/support/), the control
// plane's real gRPC stream, and the real sidecar config client.
import { afterEach, describe, expect, it } from 'vitest';
import { fetchStatus, startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';
import { endpointSlice, istio, namespace, pod, service } from '../support/kube-objects.js';
import { FakeProxy, kubeControlPlane, waitFor } from './control-plane-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const REVIEWS = 'reviews.default.svc.cluster.local';
const cluster = (cfg: MeshConfig | undefined, name: string) => cfg?.clusters.find((c) => c.name === name);
const addrs = (cfg: MeshConfig | undefined, name: string): string[] => (cluster(cfg, name)?.endpoints ?? []).map((e) => `${e.address}:${e.port}`).sort();

async function setup(): Promise<{ api: FakeKubeApiServer; cp: RunningControlPlane; proxy: FakeProxy; target: string }> {
  const api = await FakeKubeApiServer.start({ bookmarkMs: 100 });
  cleanups.push(() => api.close());
  api.apply(namespace('default', { 'meshlet-injection': 'enabled' }));
  api.apply(pod('reviews-v1-a', '10.0.0.11', { app: 'reviews', version: 'v1' }));
  api.apply(pod('reviews-v2-a', '10.0.0.12', { app: 'reviews', version: 'v2' }));
  api.apply(service('reviews', [{ name: 'http', port: 9080 }]));
  api.apply(endpointSlice('reviews', [{ ip: '10.0.0.11', pod: 'reviews-v1-a' }, { ip: '10.0.0.12', pod: 'reviews-v2-a' }], [{ name: 'http', port: 9080 }]));
  api.apply(istio('DestinationRule', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }));
  const cp = await kubeControlPlane(api);
  cleanups.push(() => cp.close());
  const target = `127.0.0.1:${cp.port}`;
  const proxy = new FakeProxy(target, 'productpage-1.default');
  cleanups.push(() => proxy.client.close());
  await waitFor('first config', () => proxy.applied.length > 0);
  return { api, cp, proxy, target };
}

describe('Kubernetes source (real client library, fake API server)', () => {
  it('turns Services, EndpointSlices and Pod labels into clusters and subsets', async () => {
    const { proxy } = await setup();
    const cfg = proxy.last();
    expect(cfg?.services.map((s) => s.host)).toContain(REVIEWS);
    expect(addrs(cfg, `outbound|9080||${REVIEWS}`)).toEqual(['10.0.0.11:9080', '10.0.0.12:9080']);
    expect(addrs(cfg, `outbound|9080|v1|${REVIEWS}`)).toEqual(['10.0.0.11:9080']);
    expect(addrs(cfg, `outbound|9080|v2|${REVIEWS}`)).toEqual(['10.0.0.12:9080']);
  });

  it('follows pods added, not ready, and removed, and a Service port change', async () => {
    const { api, proxy } = await setup();
    api.apply(pod('reviews-v2-b', '10.0.0.13', { app: 'reviews', version: 'v2' }));
    api.apply(endpointSlice('reviews', [{ ip: '10.0.0.11', pod: 'reviews-v1-a' }, { ip: '10.0.0.12', pod: 'reviews-v2-a', ready: false, terminating: true }, { ip: '10.0.0.13', pod: 'reviews-v2-b' }], [{ name: 'http', port: 9080 }]));
    await waitFor('v2-b in, v2-a (terminating) out', () => addrs(proxy.last(), `outbound|9080|v2|${REVIEWS}`).join() === '10.0.0.13:9080');
    api.apply(endpointSlice('reviews', [{ ip: '10.0.0.13', pod: 'reviews-v2-b' }], [{ name: 'http', port: 9080 }]));
    api.delete('v1', 'Pod', 'default', 'reviews-v1-a');
    await waitFor('v1 gone', () => addrs(proxy.last(), `outbound|9080|v1|${REVIEWS}`).length === 0 && addrs(proxy.last(), `outbound|9080||${REVIEWS}`).join() === '10.0.0.13:9080');
    api.apply(service('reviews', [{ name: 'http', port: 9081, targetPort: 9080 }]));
    await waitFor('port 9081', () => cluster(proxy.last(), `outbound|9081||${REVIEWS}`) !== undefined && cluster(proxy.last(), `outbound|9080||${REVIEWS}`) === undefined);
    expect(addrs(proxy.last(), `outbound|9081||${REVIEWS}`)).toEqual(['10.0.0.13:9080']);
  });

  it('applies CRDs as they are added and changed, and reports an invalid one while the valid ones still apply', async () => {
    const { api, proxy, target } = await setup();
    api.apply(istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }], timeout: '2s' }] }));
    await waitFor('VS applied', () => proxy.last()?.virtualHosts.find((v) => v.domains.includes(REVIEWS))?.routes[0]?.timeoutMs === 2000);
    api.apply(istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }], timeout: '3s' }] }, { version: 'v1beta1' }));
    await waitFor('VS changed (written as v1beta1)', () => proxy.last()?.virtualHosts.find((v) => v.domains.includes(REVIEWS))?.routes[0]?.timeoutMs === 3000);
    api.apply(istio('VirtualService', 'broken', { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings' } }], timeout: 'soon' }] }));
    api.apply(istio('VirtualService', 'dangling', { hosts: ['details'], http: [{ route: [{ destination: { host: 'no-such-service' } }] }] }));
    api.apply(istio('DestinationRule', 'reviews-lb', { host: 'ratings', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }, { ns: 'default' }));
    api.apply(service('ratings', [{ name: 'http', port: 9080 }]));
    await waitFor('ratings DR applied', () => cluster(proxy.last(), 'outbound|9080||ratings.default.svc.cluster.local')?.policy.lb.kind === 'random');
    const st = await fetchStatus(target);
    const bad = st.configErrors.map((e) => `${e.resource} ${e.path}`);
    expect(bad).toContain('VirtualService/default/broken spec.http[0].timeout');
    expect(bad.some((b) => b.startsWith('VirtualService/default/dangling'))).toBe(true);
    expect(proxy.last()?.virtualHosts.find((v) => v.domains.includes(REVIEWS))?.routes[0]?.timeoutMs).toBe(3000);
  });

  it('keeps serving the last known state through an API server outage, says so in status, and catches up after', async () => {
    const { api, proxy, target } = await setup();
    const before = proxy.last();
    await api.down();
    await waitFor('status stale', async () => (await fetchStatus(target)).sources.some((s) => s.name === 'kubernetes' && s.stale), 5000);
    const st = await fetchStatus(target);
    expect(st.sources[0]?.staleSince).not.toBe('');
    expect(proxy.last()).toBe(before);
    expect(addrs(proxy.last(), `outbound|9080||${REVIEWS}`)).toEqual(['10.0.0.11:9080', '10.0.0.12:9080']);
    // Changed while nobody could watch: seen by the relist after the outage.
    api.apply(endpointSlice('reviews', [{ ip: '10.0.0.12', pod: 'reviews-v2-a' }], [{ name: 'http', port: 9080 }]));
    api.compact();
    await api.up();
    await waitFor('fresh again', async () => (await fetchStatus(target)).sources.every((s) => !s.stale), 5000);
    await waitFor('caught up', () => addrs(proxy.last(), `outbound|9080||${REVIEWS}`).join() === '10.0.0.12:9080');
  });

  it('recovers from dropped watches, 410 Gone and a silently stalled watch', async () => {
    const { api, proxy } = await setup();
    api.compact();
    api.dropWatches();
    api.apply(pod('reviews-v1-b', '10.0.0.14', { app: 'reviews', version: 'v1' }));
    api.apply(endpointSlice('reviews', [{ ip: '10.0.0.11', pod: 'reviews-v1-a' }, { ip: '10.0.0.14', pod: 'reviews-v1-b' }], [{ name: 'http', port: 9080 }]));
    await waitFor('after reset + 410', () => addrs(proxy.last(), `outbound|9080|v1|${REVIEWS}`).join() === '10.0.0.11:9080,10.0.0.14:9080', 8000);
    expect(api.requests.some((r) => r.includes('allowWatchBookmarks=true'))).toBe(true);
    const listsBefore = api.requests.filter((r) => r.startsWith('GET /apis/discovery.k8s.io/v1/endpointslices') && !r.includes('watch=true')).length;
    api.stallWatches();
    api.apply(endpointSlice('reviews', [{ ip: '10.0.0.14', pod: 'reviews-v1-b' }], [{ name: 'http', port: 9080 }]));
    await waitFor('watchdog relisted', () => addrs(proxy.last(), `outbound|9080||${REVIEWS}`).join() === '10.0.0.14:9080', 10_000);
    const listsAfter = api.requests.filter((r) => r.startsWith('GET /apis/discovery.k8s.io/v1/endpointslices') && !r.includes('watch=true')).length;
    expect(listsAfter).toBeGreaterThan(listsBefore);
  });
});
