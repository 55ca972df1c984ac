// The authenticated control plane over real gRPC/TLS sockets: its CA (created
// once in --ca-dir, reused after), bootstrap-token authentication, node-id
// binding, certificate signing with the right SPIFFE SAN, and rotation.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { fetchStatus, startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import { generateWorkloadKey, uriSans, WorkloadIdentity } from '../../proxy/identity/index.js';
import { CertificateClient } from '../../proxy/xds/index.js';
import { configDir, FakeProxy, sleep, waitFor } from './control-plane-fixtures.js';

const TOKENS = [
  { token: 'reviews-token-0123456789abcdef', nodeId: 'reviews-v1', namespace: 'default', serviceAccount: 'bookinfo-reviews' },
  { token: 'ratings-token-0123456789abcdef', nodeId: 'ratings-v1', namespace: 'default', serviceAccount: 'bookinfo-ratings' },
];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function secureControlPlane(extra: { certTtlMs?: number; caDir?: string } = {}): Promise<{ cp: RunningControlPlane; target: string; root: Buffer; caDir: string; logs: string[] }> {
  const files = await configDir();
  cleanups.push(files.remove);
  const pki = await mkdtemp(join(tmpdir(), 'meshlet-pki-'));
  cleanups.push(() => rm(pki, { recursive: true, force: true }));
  const tokensFile = join(pki, 'tokens.yaml');
  await writeFile(tokensFile, stringify(TOKENS));
  const caDir = extra.caDir ?? join(pki, 'ca');
  const logs: string[] = [];
  const cp = await startControlPlane({
    configDir: files.dir,
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    metricsPort: 0,
    security: { caDir, bootstrapTokensFile: tokensFile, ...(extra.certTtlMs ? { certTtlMs: extra.certTtlMs } : {}) },
    log: (_l, m) => logs.push(m),
  });
  cleanups.push(() => cp.close());
  return { cp, target: `127.0.0.1:${cp.port}`, root: Buffer.from(cp.rootCertPem ?? ''), caDir, logs };
}

async function deniedCalls(cp: RunningControlPlane): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${cp.metricsPort}/metrics`);
  return (await res.text()).split('\n').filter((l) => l.startsWith('meshlet_cp_calls_denied_total')).join('\n');
}

describe('authenticated control plane', () => {
  it('creates its root in --ca-dir on first start and reuses it after a restart', async () => {
    const first = await secureControlPlane();
    const onDisk = await readFile(join(first.caDir, 'root-cert.pem'), 'utf8');
    expect(onDisk).toBe(first.cp.rootCertPem);
    expect(first.logs.join('\n')).toMatch(/created a new self-signed root/);
    await first.cp.close();
    const second = await secureControlPlane({ caDir: first.caDir });
    expect(second.cp.rootCertPem).toBe(onDisk);
    expect(second.logs.join('\n')).not.toMatch(/created a new self-signed root/);
  });

  it('refuses a subscriber without a credential, and one with an unknown token', async () => {
    const { cp, target, root } = await secureControlPlane();
    const anonymous = new FakeProxy(target, 'reviews-v1', { tls: { ca: root } });
    const forged = new FakeProxy(target, 'reviews-v1', { auth: { ca: root, token: () => 'not-a-real-token-at-all' } });
    cleanups.push(() => anonymous.client.close(), () => forged.client.close());
    await waitFor('both refused (denial counted)', async () => /reason="unauthenticated"} ([2-9]|\d\d)/.test(await deniedCalls(cp)), 5000);
    await sleep(200);
    expect(anonymous.applied).toHaveLength(0);
    expect(forged.applied).toHaveLength(0);
    expect(anonymous.states).not.toContain('connected');
    expect(forged.states).not.toContain('connected');
    expect((await fetchStatus(target, { creds: credentials.createSsl(root) })).nodes).toHaveLength(0);
  });

  it('refuses a subscriber claiming another node id, and serves the one its token allows', async () => {
    const { cp, target, root } = await secureControlPlane();
    const token = TOKENS[0]!.token;
    const impostor = new FakeProxy(target, 'ratings-v1', { auth: { ca: root, token: () => token } });
    const honest = new FakeProxy(target, 'reviews-v1', { auth: { ca: root, token: () => token } });
    cleanups.push(() => impostor.client.close(), () => honest.client.close());
    await waitFor('honest applied', () => honest.applied.length === 1, 5000);
    await waitFor('impostor refused', async () => /StreamConfig",reason="permission_denied"} [1-9]/.test(await deniedCalls(cp)), 5000);
    expect(impostor.applied).toHaveLength(0);
    const nodes = (await fetchStatus(target, { creds: credentials.createSsl(root) })).nodes;
    expect(nodes.map((n) => n.nodeId)).toEqual(['reviews-v1']);
  });

  it('does not talk to a client that insists on plaintext', async () => {
    const { target } = await secureControlPlane();
    const plain = new FakeProxy(target, 'reviews-v1');
    cleanups.push(() => plain.client.close());
    await sleep(800);
    expect(plain.applied).toHaveLength(0);
    expect(plain.states).not.toContain('connected');
  });

  it('signs a CSR with exactly the identity the token maps to, chained to its root', async () => {
    const { target, root } = await secureControlPlane({ certTtlMs: 3_600_000 });
    const certs = new CertificateClient(target, { ca: root, token: () => TOKENS[0]!.token });
    cleanups.push(() => certs.close());
    // The CSR asks for someone else's identity: the CA ignores requested names.
    const key = await generateWorkloadKey('spiffe://cluster.local/ns/kube-system/sa/admin');
    const before = Date.now();
    const res = await certs.create(key.csrPem, 'default', 'bookinfo-reviews');
    expect(res.spiffeId).toBe('spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    expect(res.nodeId).toBe('reviews-v1');
    const leaf = new X509Certificate(res.certChain[0]!);
    expect(uriSans(res.certChain[0]!)).toEqual(['spiffe://cluster.local/ns/default/sa/bookinfo-reviews']);
    expect(leaf.subjectAltName).toBe('URI:spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
    expect(leaf.verify(new X509Certificate(root).publicKey)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(key.keyPem))).toBe(true);
    const lifetime = new Date(leaf.validTo).getTime() - before;
    expect(lifetime).toBeGreaterThan(3_590_000);
    expect(lifetime).toBeLessThanOrEqual(3_601_000);

    await expect(certs.create(key.csrPem, 'default', 'bookinfo-ratings')).rejects.toThrow(/PERMISSION_DENIED|credential is ns\/default\/sa\/bookinfo-reviews/);
    await expect(certs.create('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', '', '')).rejects.toThrow(/INVALID_ARGUMENT|malformed CSR/);
    const anonymous = new CertificateClient(target, { ca: root, token: () => 'not-a-real-token-at-all' });
    cleanups.push(() => anonymous.close());
    await expect(anonymous.create(key.csrPem, '', '')).rejects.toThrow(/UNAUTHENTICATED/);
  });

  it('rotates a short-lived certificate at half-life, each time with a new key, and reports it in status', async () => {
    const { target, root } = await secureControlPlane({ certTtlMs: 2000 });
    const certs = new CertificateClient(target, { ca: root, token: () => TOKENS[1]!.token });
    const seen: { spiffeId: string; notAfter: Date; keyPem: string }[] = [];
    const identity = new WorkloadIdentity({
      namespace: 'default',
      serviceAccount: 'bookinfo-ratings',
      sign: (csr) => certs.create(csr, 'default', 'bookinfo-ratings'),
      onIssued: (c) => seen.push(c),
    }).start();
    cleanups.push(() => identity.close(), () => certs.close());
    const first = await identity.ready();
    expect(first.spiffeId).toBe('spiffe://cluster.local/ns/default/sa/bookinfo-ratings');
    // 2 s lifetime → renewals about every second; wait (bounded) for two of them.
    await waitFor('two rotations', () => seen.length >= 3, 8000);
    expect(new Set(seen.map((s) => s.keyPem)).size).toBe(seen.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.notAfter.getTime()).toBeGreaterThan(seen[i - 1]!.notAfter.getTime());
    // Every certificate was replaced before it expired.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.notAfter.getTime() - 2000).toBeLessThan(seen[i - 1]!.notAfter.getTime());

    const p = new FakeProxy(target, 'ratings-v1', { auth: { ca: root, token: () => TOKENS[1]!.token } });
    cleanups.push(() => p.client.close());
    await waitFor('applied', () => p.applied.length === 1, 5000);
    const row = (await fetchStatus(target, { creds: credentials.createSsl(root) })).nodes.find((n) => n.nodeId === 'ratings-v1');
    expect(row?.identity).toBe('spiffe://cluster.local/ns/default/sa/bookinfo-ratings');
    expect(Date.parse(row?.certExpiresAt ?? '')).toBeGreaterThan(Date.now() - 1000);
  });
});
