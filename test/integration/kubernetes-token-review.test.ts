// Kubernetes bootstrap: sidecars authenticate to the control plane with their
// pod's projected service-account token, which the control plane checks with
// the TokenReview API (the fake API server is a test double following the
// real authentication.k8s.io/v1 protocol, audiences included). The CA root is
// kept in a Secret, created on first start and reused after a restart.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchStatus, startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import { generateWorkloadKey } from '../../proxy/identity/index.js';
import { CertificateClient } from '../../proxy/xds/index.js';
import { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';
import { namespace } from '../support/kube-objects.js';
import { send } from '../support/http-client.js';
import { startMeshlet, until } from '../support/meshlet-process.js';
import { startUpstream } from '../support/upstream.js';
import { FakeProxy, sleep, waitFor } from './control-plane-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function kubeControlPlane(api: FakeKubeApiServer, logs: string[] = []): Promise<{ cp: RunningControlPlane; target: string; root: Buffer }> {
  const cp = await startControlPlane({
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    metricsPort: 0,
    debounceMs: 20,
    security: { certTtlMs: 3_600_000 },
    log: (_l, m) => logs.push(m),
    kubernetes: { kubeconfig: api.writeKubeconfig(), debounceMs: 20, timing: { backoffInitialMs: 50, backoffMaxMs: 200, watchTimeoutS: 1, resyncMs: 0 } },
  });
  cleanups.push(() => cp.close());
  return { cp, target: `127.0.0.1:${cp.port}`, root: Buffer.from(cp.rootCertPem ?? '') };
}

async function fakeApi(): Promise<FakeKubeApiServer> {
  const api = await FakeKubeApiServer.start({ bookmarkMs: 100 });
  cleanups.push(() => api.close());
  api.apply(namespace('default'));
  return api;
}

async function denied(cp: RunningControlPlane): Promise<string> {
  return (await (await fetch(`http://127.0.0.1:${cp.metricsPort}/metrics`)).text())
    .split('\n')
    .filter((l) => l.startsWith('meshlet_cp_calls_denied_total'))
    .join('\n');
}

describe('Kubernetes bootstrap credential (TokenReview) and the CA in a Secret', () => {
  it('a real sidecar gets its identity and node id from its projected token, nothing else', async () => {
    const api = await fakeApi();
    const { cp, target, root } = await kubeControlPlane(api);
    const dir = await mkdtemp(join(tmpdir(), 'meshlet-tr-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const tokenFile = join(dir, 'token');
    const caFile = join(dir, 'root-cert.pem');
    await writeFile(tokenFile, api.issueServiceAccountToken('default', 'bookinfo-reviews', { pod: 'reviews-v1-7d4f', audiences: ['meshlet'] }));
    await writeFile(caFile, root);
    // An AuthorizationPolicy CRD (security.istio.io) reaches the sidecar through the Kubernetes source.
    api.apply({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'reviews-get-only', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'reviews' } }, rules: [{ to: [{ operation: { methods: ['GET'] } }] }] },
    });
    const app = await startUpstream('reviews');
    cleanups.push(() => app.close());
    const sidecar = await startMeshlet(
      ['--control-plane', target, '--ca-cert', caFile, '--token-file', tokenFile, '--service-account', 'bookinfo-reviews', '--namespace', 'default', '--labels', 'app=reviews', '--app-port', String(app.port)],
      {},
      40_000,
    );
    cleanups.push(() => sidecar.stop());
    const info = await until(async () => {
      const r = await send(sidecar.admin, { path: '/server_info' });
      const j = JSON.parse(r.body) as { identity: string | null; node_id: string };
      return j.identity !== null ? j : undefined;
    }, 30_000);
    expect(info.identity).toBe('spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    // The node id comes from the token's pod binding, and /server_info shows that one.
    expect(info.node_id).toBe('reviews-v1-7d4f.default');
    await waitFor('status shows the node', async () => (await fetchStatus(target, { creds: credentials.createSsl(root) })).nodes.some((n) => n.nodeId === 'reviews-v1-7d4f.default'), 20_000);
    await until(async () => ((await send(sidecar.inbound, { method: 'DELETE', path: '/r/1' })).status === 403 ? true : undefined), 20_000);
    expect((await send(sidecar.inbound, { path: '/r/1' })).status).toBe(200);
    // Every review asked for the control plane's audience, never the API server's.
    expect(api.tokenReviews.length).toBeGreaterThan(0);
    expect(api.tokenReviews.every((r) => r.audiences.join() === 'meshlet')).toBe(true);
    expect(await denied(cp)).not.toMatch(/ [1-9]/);
  }, 90_000);

  it('refuses a token for another audience, one not bound to a pod, an unknown one, another node id and another identity', async () => {
    const api = await fakeApi();
    const { cp, target, root } = await kubeControlPlane(api);
    const good = api.issueServiceAccountToken('default', 'bookinfo-ratings', { pod: 'ratings-v1-x', audiences: ['meshlet'] });
    const apiAudience = api.issueServiceAccountToken('default', 'bookinfo-ratings', { pod: 'ratings-v1-x' });
    const unbound = api.issueServiceAccountToken('default', 'bookinfo-ratings', { audiences: ['meshlet'] });
    const proxies = [
      new FakeProxy(target, 'ratings-v1-x.default', { auth: { ca: root, token: () => apiAudience } }),
      new FakeProxy(target, 'ratings-v1-x.default', { auth: { ca: root, token: () => unbound } }),
      new FakeProxy(target, 'ratings-v1-x.default', { auth: { ca: root, token: () => 'fake-sa-token.forged' } }),
      new FakeProxy(target, 'reviews-v1-7d4f.default', { auth: { ca: root, token: () => good } }),
    ];
    const honest = new FakeProxy(target, 'ratings-v1-x.default', { auth: { ca: root, token: () => good } });
    cleanups.push(...proxies.map((p) => () => p.client.close()), () => honest.client.close());
    await waitFor('honest applied', () => honest.applied.length === 1, 10_000);
    await waitFor('three unauthenticated, one impostor', async () => {
      const d = await denied(cp);
      return /StreamConfig",reason="unauthenticated"} ([3-9]|\d\d)/.test(d) && /StreamConfig",reason="permission_denied"} [1-9]/.test(d);
    }, 10_000);
    await sleep(200);
    for (const p of proxies) expect(p.applied).toHaveLength(0);
    expect((await fetchStatus(target, { creds: credentials.createSsl(root) })).nodes.map((n) => n.nodeId)).toEqual(['ratings-v1-x.default']);

    // Certificates: only for the token's own service account, whatever the CSR asks for.
    const certs = new CertificateClient(target, { ca: root, token: () => good });
    cleanups.push(() => certs.close());
    const key = await generateWorkloadKey('spiffe://cluster.local/ns/kube-system/sa/admin');
    const res = await certs.create(key.csrPem, 'default', 'bookinfo-ratings');
    expect(new X509Certificate(res.certChain[0]!).subjectAltName).toBe('URI:spiffe://cluster.local/ns/default/sa/bookinfo-ratings');
    await expect(certs.create(key.csrPem, 'default', 'bookinfo-reviews')).rejects.toThrow(/PERMISSION_DENIED/);
    const stranger = new CertificateClient(target, { ca: root, token: () => apiAudience });
    cleanups.push(() => stranger.close());
    await expect(stranger.create(key.csrPem, 'default', 'bookinfo-ratings')).rejects.toThrow(/UNAUTHENTICATED/);
    // A revoked token stops working once its cached answer expires (60 s); a new one is reviewed at once.
    expect(api.tokenReviews.filter((r) => r.authenticated).length).toBeGreaterThan(0);
  }, 60_000);

  it('keeps the CA root in a Secret: created on first start, the same root after a restart', async () => {
    const api = await fakeApi();
    const logs: string[] = [];
    const first = await kubeControlPlane(api, logs);
    const secret = api.get('v1', 'Secret', 'meshlet-system', 'meshlet-ca');
    expect(secret).toBeDefined();
    const data = secret!['data'] as Record<string, string>;
    expect(Buffer.from(data['root-cert.pem']!, 'base64').toString()).toBe(first.cp.rootCertPem);
    expect(Object.keys(data).sort()).toEqual(['ca-cert.pem', 'ca-key.pem', 'root-cert.pem']);
    expect(logs.join('\n')).toMatch(/created a new self-signed root in Secret meshlet-system\/meshlet-ca/);
    await first.cp.close();
    const logs2: string[] = [];
    const second = await kubeControlPlane(api, logs2);
    expect(second.cp.rootCertPem).toBe(first.cp.rootCertPem);
    expect(logs2.join('\n')).not.toMatch(/created a new self-signed root/);
  }, 60_000);
});
