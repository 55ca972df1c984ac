// Per-namespace visibility (Istio exportTo) through the whole path: the real
// @kubernetes/client-node informers against the fake API server (a test
// double in test/support/), the control plane, and real gRPC subscriptions
// from sidecar config clients in two namespaces.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../../control-plane/index.js';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';
import { endpointSlice, istio, namespace, pod, service } from '../support/kube-objects.js';
import { FakeProxy, kubeControlPlane, waitFor } from './control-plane-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const LEDGER = 'ledger.team-b.svc.cluster.local';
const REVIEWS = 'reviews.team-a.svc.cluster.local';
const hosts = (cfg: MeshConfig | undefined): string[] => (cfg?.services ?? []).map((s) => s.host).sort();
const clusterHosts = (cfg: MeshConfig | undefined): string[] => [...new Set((cfg?.clusters ?? []).map((c) => c.host))].sort();
const reviewsTimeout = (cfg: MeshConfig | undefined): number | undefined => cfg?.virtualHosts.find((v) => v.domains.includes(REVIEWS))?.routes[0]?.timeoutMs;

async function setup(): Promise<{ api: FakeKubeApiServer; cp: RunningControlPlane; a: FakeProxy; b: FakeProxy }> {
  const api = await FakeKubeApiServer.start({ bookmarkMs: 100 });
  cleanups.push(() => api.close());
  api.apply(namespace('team-a'));
  api.apply(namespace('team-b'));
  api.apply(pod('reviews-1', '10.0.1.11', { app: 'reviews' }, { ns: 'team-a' }));
  api.apply(service('reviews', [{ name: 'http', port: 9080 }], { ns: 'team-a' }));
  api.apply(endpointSlice('reviews', [{ ip: '10.0.1.11', pod: 'reviews-1' }], [{ name: 'http', port: 9080 }], { ns: 'team-a' }));
  // Visible only inside team-b (Istio's Service annotation).
  api.apply(pod('ledger-1', '10.0.2.21', { app: 'ledger' }, { ns: 'team-b' }));
  api.apply(service('ledger', [{ name: 'http', port: 8080 }], { ns: 'team-b', annotations: { 'networking.istio.io/exportTo': '.' } }));
  api.apply(endpointSlice('ledger', [{ ip: '10.0.2.21', pod: 'ledger-1' }], [{ name: 'http', port: 8080 }], { ns: 'team-b' }));
  // Declared in team-a, exported to team-b only.
  api.apply(istio('ServiceEntry', 'payments', { hosts: ['payments.example.com'], location: 'MESH_EXTERNAL', resolution: 'STATIC', ports: [{ number: 80, name: 'http' }], endpoints: [{ address: '192.0.2.7' }], exportTo: ['team-b'] }, { ns: 'team-a' }));
  // team-a's own routing for reviews: team-b must route reviews by default.
  api.apply(istio('VirtualService', 'reviews', { hosts: ['reviews'], exportTo: ['.'], http: [{ route: [{ destination: { host: 'reviews' } }], timeout: '2s' }] }, { ns: 'team-a' }));
  const cp = await kubeControlPlane(api);
  cleanups.push(() => cp.close());
  const target = `127.0.0.1:${cp.port}`;
  const node = (ns: string) => ({ node: { id: `app-1.${ns}`, workload: 'app', namespace: ns, labels: { app: 'app' } } });
  const a = new FakeProxy(target, 'app-1.team-a', node('team-a'));
  const b = new FakeProxy(target, 'app-1.team-b', node('team-b'));
  cleanups.push(() => a.client.close(), () => b.client.close());
  await waitFor('both sidecars configured', () => a.applied.length > 0 && b.applied.length > 0, 15_000);
  return { api, cp, a, b };
}

describe('per-namespace scoping (exportTo) over real subscriptions', () => {
  it('a sidecar receives only the services, clusters and routes its namespace can see', async () => {
    const { a, b } = await setup();
    expect(hosts(a.last())).toEqual([REVIEWS]);
    expect(clusterHosts(a.last())).toEqual([REVIEWS]);
    expect(hosts(b.last())).toEqual([LEDGER, 'payments.example.com', REVIEWS]);
    expect(clusterHosts(b.last())).toEqual([LEDGER, 'payments.example.com', REVIEWS]);
    // The VirtualService is exported to team-a only: team-b gets the default route.
    expect(reviewsTimeout(a.last())).toBe(2000);
    expect(b.last()?.virtualHosts.find((v) => v.domains.includes(REVIEWS))?.routes.map((r) => r.name)).toEqual(['default']);
    expect(reviewsTimeout(b.last())).toBeUndefined();
    expect(a.last()?.version).not.toBe(b.last()?.version);
  });

  it('follows visibility changes: an annotation removed exports the Service everywhere', async () => {
    const { api, a, b } = await setup();
    api.apply(service('ledger', [{ name: 'http', port: 8080 }], { ns: 'team-b' }));
    await waitFor('team-a sees ledger', () => hosts(a.last()).includes(LEDGER), 10_000);
    expect(clusterHosts(a.last())).toContain(LEDGER);
    expect(hosts(b.last())).toContain(LEDGER);
    expect(a.rejects).toEqual([]);
  });

  it('a VirtualService exported to a namespace that cannot see its destination is left out there, not NACKed', async () => {
    const { api, cp, a, b } = await setup();
    api.apply(istio('VirtualService', 'to-ledger', { hosts: ['reviews.team-a.svc.cluster.local'], exportTo: ['*'], http: [{ route: [{ destination: { host: LEDGER } }], timeout: '7s' }] }, { ns: 'team-b' }));
    api.delete('networking.istio.io/v1', 'VirtualService', 'team-a', 'reviews');
    await waitFor('team-b routes reviews to ledger', () => reviewsTimeout(b.last()) === 7000, 10_000);
    // team-a cannot see ledger: default route for reviews, no NACK.
    await waitFor('team-a falls back to the default route', () => a.last()?.virtualHosts.find((v) => v.domains.includes(REVIEWS))?.routes[0]?.name === 'default', 10_000);
    expect(a.rejects).toEqual([]);
    expect(cp.server.nodeConfig('app-1.team-a').configJson).not.toContain(LEDGER);
  });
});
