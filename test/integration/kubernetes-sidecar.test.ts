// A real sidecar process configured from the Kubernetes API: the fake API
// server (test double, real list/watch protocol) → the control plane's
// Kubernetes source (real @kubernetes/client-node) → gRPC → `meshlet proxy`
// (the built CLI) → real upstreams standing in for two pods.
import { afterEach, describe, expect, it } from 'vitest';
import { startControlPlane } from '../../control-plane/index.js';
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';
import { send } from '../support/http-client.js';
import { endpointSlice, istio, namespace, pod, service } from '../support/kube-objects.js';
import { startMeshlet } from '../support/meshlet-process.js';
import { startUpstream } from '../support/upstream.js';
import { waitFor } from './control-plane-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const HOST = 'reviews.default.svc.cluster.local:9080';

describe('sidecar process fed by the Kubernetes source', () => {
  it('routes by VirtualService/DestinationRule CRDs to pods found through EndpointSlices, and follows changes', async () => {
    const v1 = await startUpstream('reviews-v1', undefined, '127.0.0.1');
    const v2 = await startUpstream('reviews-v2', undefined, '127.0.0.2');
    cleanups.push(() => v1.close(), () => v2.close());
    const api = await FakeKubeApiServer.start({ bookmarkMs: 100 });
    cleanups.push(() => api.close());
    api.apply(namespace('default'));
    api.apply(pod('reviews-v1-a', '127.0.0.1', { app: 'reviews', version: 'v1' }));
    api.apply(pod('reviews-v2-a', '127.0.0.2', { app: 'reviews', version: 'v2' }));
    api.apply(service('reviews', [{ name: 'http', port: 9080 }]));
    // Two slices because the two stand-in pods listen on different ports.
    api.apply(endpointSlice('reviews', [{ ip: '127.0.0.1', pod: 'reviews-v1-a' }], [{ name: 'http', port: v1.port }], { suffix: 'a' }));
    api.apply(endpointSlice('reviews', [{ ip: '127.0.0.2', pod: 'reviews-v2-a' }], [{ name: 'http', port: v2.port }], { suffix: 'b' }));
    api.apply(istio('DestinationRule', 'reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }));
    api.apply(istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] }));
    const cp = await startControlPlane({
      security: { insecure: true },
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      metricsPort: -1,
      debounceMs: 20,
      log: () => {},
      kubernetes: { kubeconfig: api.writeKubeconfig(), debounceMs: 20, timing: { backoffInitialMs: 50, backoffMaxMs: 200, watchTimeoutS: 1, resyncMs: 0 } },
    });
    cleanups.push(() => cp.close());
    const sidecar = await startMeshlet(['--control-plane', `127.0.0.1:${cp.port}`, '--insecure', '--namespace', 'default', '--labels', 'app=productpage'], {}, 40_000);
    cleanups.push(() => sidecar.stop());
    const who = async (): Promise<string> => {
      const r = await send(sidecar.outbound, { host: HOST, path: '/reviews/1' });
      return r.status === 200 ? (JSON.parse(r.body) as { name: string }).name : `status ${r.status}`;
    };
    await waitFor('routed to v2', async () => (await who()) === 'reviews-v2', 40_000);

    // Shift all traffic to v1 with a CRD change.
    api.apply(istio('VirtualService', 'reviews', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }] }));
    await waitFor('routed to v1', async () => (await who()) === 'reviews-v1', 20_000);

    // The v1 pod goes not-ready: its subset has no endpoints left (503, no healthy upstream).
    api.apply(endpointSlice('reviews', [{ ip: '127.0.0.1', pod: 'reviews-v1-a', ready: false }], [{ name: 'http', port: v1.port }], { suffix: 'a' }));
    await waitFor('v1 subset empty', async () => (await who()) === 'status 503', 20_000);
    expect(v2.received.length).toBeGreaterThan(0);
  }, 120_000);
});
