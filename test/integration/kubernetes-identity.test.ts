// Sidecar identity in Kubernetes mode: a sidecar subscribes with its pod
// name, namespace, IP, service account and labels; the control plane checks
// them against the Pod object in its informer (the real
// @kubernetes/client-node against the fake API server, a test double in
// test/support/) and refuses a mismatch, which `meshlet status` shows.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../../control-plane/index.js';
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';
import { BIN } from '../support/meshlet-process.js';
import { namespace, pod } from '../support/kube-objects.js';
import { FakeProxy, kubeControlPlane, waitFor } from './control-plane-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const HONEST: { podName: string; podIp: string; serviceAccount: string; labels: Record<string, string> } = { podName: 'reviews-1', podIp: '10.0.0.11', serviceAccount: 'bookinfo-reviews', labels: { app: 'reviews', version: 'v1' } };

async function setup(): Promise<{ api: FakeKubeApiServer; cp: RunningControlPlane; target: string }> {
  const api = await FakeKubeApiServer.start({ bookmarkMs: 100 });
  cleanups.push(() => api.close());
  api.apply(namespace('default'));
  api.apply(pod('reviews-1', '10.0.0.11', { app: 'reviews', version: 'v1', 'pod-template-hash': 'abc' }, { serviceAccount: 'bookinfo-reviews' }));
  const cp = await kubeControlPlane(api);
  cleanups.push(() => cp.close());
  return { api, cp, target: `127.0.0.1:${cp.port}` };
}

function sidecar(target: string, id: string, claim: Partial<typeof HONEST>): FakeProxy {
  const c = { ...HONEST, ...claim };
  const p = new FakeProxy(target, id, { node: { id, workload: 'reviews', namespace: 'default', labels: c.labels, podName: c.podName, podIp: c.podIp, serviceAccount: c.serviceAccount } });
  cleanups.push(() => p.client.close());
  return p;
}

const refusedReason = (cp: RunningControlPlane, id: string): string | undefined => cp.server.status().find((n) => n.nodeId === id)?.refused;

describe('sidecar identity checked against the Pod (real gRPC subscriptions)', () => {
  it('admits the honest pod and refuses each mismatch with its reason, shown by meshlet status', async () => {
    const { cp, target } = await setup();
    const honest = sidecar(target, 'reviews-1.default', {});
    const cases: { id: string; claim: Partial<typeof HONEST>; reason: string }[] = [
      { id: 'ip.default', claim: { podIp: '10.0.0.99' }, reason: 'pod default/reviews-1 has IP 10.0.0.11, not 10.0.0.99' },
      { id: 'sa.default', claim: { serviceAccount: 'admin' }, reason: 'pod default/reviews-1 runs as service account bookinfo-reviews, not admin' },
      { id: 'labels.default', claim: { labels: { app: 'reviews', version: 'v2' } }, reason: 'pod default/reviews-1 does not have label version=v2 (it has version=v1)' },
    ];
    const liars = cases.map((c) => sidecar(target, c.id, c.claim));
    await waitFor('honest sidecar configured', () => honest.applied.length > 0, 15_000);
    for (const c of cases) await waitFor(`${c.id} refused`, () => refusedReason(cp, c.id) === c.reason, 10_000).catch((e: Error) => { throw new Error(`${e.message}: ${JSON.stringify(cp.server.status())}`); });
    expect(liars.map((l) => l.applied.length)).toEqual([0, 0, 0]);
    expect(refusedReason(cp, 'reviews-1.default')).toBeUndefined();
    // The real CLI, asynchronously: the control plane answering it lives in this process.
    const out = await promisify(execFile)(process.execPath, [BIN, 'status', '--insecure', '--control-plane', target], { encoding: 'utf8' });
    expect(out.stdout).toMatch(/ip\.default .*REFUSED: pod default\/reviews-1 has IP 10\.0\.0\.11, not 10\.0\.0\.99/);
    expect(out.stdout).toMatch(/reviews-1\.default .*SYNCED/);
  }, 60_000);

  it('a pod not seen yet is refused, then admitted once it appears (the sidecar retries)', async () => {
    const { api, cp, target } = await setup();
    const early = sidecar(target, 'ratings-1.default', { podName: 'ratings-1', podIp: '10.0.0.21', serviceAccount: 'default', labels: { app: 'ratings' } });
    await waitFor('refused while unknown', () => /pod default\/ratings-1 is not known/.test(refusedReason(cp, 'ratings-1.default') ?? ''), 10_000);
    expect(early.applied.length).toBe(0);
    api.apply(pod('ratings-1', '10.0.0.21', { app: 'ratings' }));
    await waitFor('admitted after the Pod appeared', () => early.applied.length > 0, 15_000);
    expect(refusedReason(cp, 'ratings-1.default')).toBeUndefined();
  }, 45_000);

  it('a sidecar that names no pod (a workload outside the cluster) is not checked', async () => {
    const { target } = await setup();
    const vm = new FakeProxy(target, 'vm-1.default');
    cleanups.push(() => vm.client.close());
    await waitFor('configured', () => vm.applied.length > 0, 15_000);
  });
});
