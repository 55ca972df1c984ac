// AuthorizationPolicy on verified peers: real TLS clients holding SPIFFE
// certificates signed by the control plane's CA (control-plane/ca), against
// the sidecar's real inbound pipeline and L4 router behind a TLS listener
// that requests client certificates, as the sidecar's mTLS inbound does.
// Covers source.principals / namespaces on HTTP and on TCP (a denied TCP
// connection is closed, the app never sees it), and that a plaintext caller
// or one with a certificate from another CA has no principal at all.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCaDir, type CertificateAuthority } from '../../control-plane/ca/index.js';
import { parseIstioYaml } from '../../proxy/config/istio/index.js';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import { translate } from '../../proxy/config/translate/index.js';
import { NO_EVENTS, type ConnectionInfo, type ResilienceEvents } from '../../proxy/exchange/index.js';
import { generateWorkloadKey } from '../../proxy/identity/index.js';
import { createInboundPipeline, inboundHandlers, type RouterDeps } from '../../proxy/pipeline/index.js';
import { compileSnapshot, type Snapshot } from '../../proxy/snapshot/index.js';
import { UpstreamRegistry } from '../../proxy/upstream/registry.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

interface Creds {
  readonly key: string;
  readonly cert: string;
}

async function workloadCreds(ca: CertificateAuthority, namespace: string, serviceAccount: string): Promise<Creds> {
  const k = await generateWorkloadKey(`spiffe://cluster.local/ns/${namespace}/sa/${serviceAccount}`);
  const issued = await ca.signWorkload(k.csrPem, { trustDomain: 'cluster.local', namespace, serviceAccount }, 3_600_000);
  return { key: k.keyPem, cert: issued.certChain.join('') };
}

const ap = (name: string, spec: string): string => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: default }\nspec:\n${spec}\n---\n`;

function snapshotOf(yaml: string): Snapshot {
  const parsed = parseIstioYaml(yaml, 'p.yaml');
  const t = translate(parsed.resources);
  if (!t.ok) throw new Error(JSON.stringify(t.issues));
  const config: MeshConfig = t.config;
  return compileSnapshot(config, new UpstreamRegistry({ dnsRefreshMs: 60_000 }), { namespace: 'default', labels: { app: 'reviews' }, now: Date.now() });
}

let ca: CertificateAuthority;
let server: Creds;
let productpage: Creds;
let ratings: Creds;
let foreign: Creds;
let app: Upstream;
let tcpApp: NetServer;
let tcpPort: number;
let tcpAccepted = 0;
let snapshot: Snapshot;
const denials: string[] = [];
let tls: ReturnType<typeof createTlsServer>;
let tlsPort: number;

beforeAll(async () => {
  ca = await loadOrCreateCaDir(mkdtempSync(join(tmpdir(), 'meshlet-authz-ca-')), 'cluster.local', () => undefined);
  const other = await loadOrCreateCaDir(mkdtempSync(join(tmpdir(), 'meshlet-authz-ca2-')), 'cluster.local', () => undefined);
  [server, productpage, ratings, foreign] = await Promise.all([
    workloadCreds(ca, 'default', 'bookinfo-reviews'),
    workloadCreds(ca, 'default', 'bookinfo-productpage'),
    workloadCreds(ca, 'default', 'bookinfo-ratings'),
    workloadCreds(other, 'default', 'bookinfo-productpage'),
  ]);
  app = await startUpstream('reviews');
  tcpApp = createNetServer((s) => {
    tcpAccepted++;
    s.end('hello from the app\n');
  });
  await new Promise<void>((r) => tcpApp.listen(0, '127.0.0.1', () => r()));
  tcpPort = (tcpApp.address() as AddressInfo).port;

  // Only productpage's service account may call reviews, over HTTP and TCP alike.
  snapshot = snapshotOf(ap('reviews-from-productpage', '  rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }] }]'));
  const events: ResilienceEvents = { ...NO_EVENTS, authorization: (decision, policy, protocol) => denials.push(`${decision} ${policy || '-'} ${protocol}`) };
  const observer = { onStart: () => undefined, onComplete: () => undefined };
  const deps = { snapshot: () => snapshot, observer, events, outlier: { record: () => undefined }, rng: Math.random, bufferLimit: 1 << 20 };
  const pipeline = createInboundPipeline(deps, { appPort: app.port, appAddress: '127.0.0.1', serviceHost: 'reviews.default.svc.cluster.local', labels: { app: 'reviews' } });
  const http = createHttpServer(pipeline.handler);
  const routerDeps: RouterDeps = {
    snapshot: () => snapshot,
    policy: () => 'ALLOW_ANY',
    tcp: { observer: { onOpen: () => undefined, onClose: () => undefined }, outlier: { record: () => undefined }, events, connectTimeoutMs: 5_000, idleTimeoutMs: 60_000 },
    http2: undefined,
    onLoop: () => undefined,
  };
  const router = inboundHandlers((s) => http.emit('connection', s), routerDeps, { appAddress: '127.0.0.1', appPort: app.port, destination: pipeline.cluster.destination });
  // The TLS listener asks for a client certificate (verified against the mesh root) but, like PERMISSIVE, lets callers without one in:
  // they have no principal. SNI `tcp` marks a connection the test wants on the L4 path (its original destination is the TCP app).
  tls = createTlsServer({ key: server.key, cert: server.cert, ca: ca.rootPem, requestCert: true, rejectUnauthorized: false }, (s: TLSSocket) => {
    if (s.servername === 'tcp') {
      const conn: ConnectionInfo = { dstAddress: '127.0.0.1', dstPort: tcpPort, redirected: true, srcAddress: '127.0.0.1', srcPort: s.remotePort ?? 0, protocol: 'tcp', sni: 'tcp', declared: false };
      router.tcp(s as unknown as Socket, conn);
    } else router.http1(s as unknown as Socket, {} as ConnectionInfo);
  });
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', () => r()));
  tlsPort = (tls.address() as AddressInfo).port;
});

afterAll(async () => {
  tls?.close();
  tcpApp?.close();
  await app?.close();
});

/** One HTTP/1.1 request over a TLS connection made with `creds` (none: a TLS client without a certificate). */
function httpsGet(creds: Creds | undefined, path = '/'): Promise<{ status: number; body: string; flags: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'reviews', ca: ca.rootPem, rejectUnauthorized: false, ...(creds ?? {}) }, () => {
      s.write(`GET ${path} HTTP/1.1\r\nhost: reviews:9080\r\nconnection: close\r\n\r\n`);
    });
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (data += c));
    s.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0);
      const flags = /x-meshlet-flags: ([^\r\n]+)/i.exec(data)?.[1] ?? '';
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4), flags });
    });
    s.on('error', reject);
  });
}

/** Opens a TLS connection on the L4 path; resolves to what the app sent (`` when the connection was closed before). */
function tcpOverTls(creds: Creds | undefined): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'tcp', ca: ca.rootPem, rejectUnauthorized: false, ...(creds ?? {}) });
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (data += c));
    s.on('close', () => resolve(data));
    s.on('error', () => undefined);
  });
}

describe('source.principals from the verified peer certificate', () => {
  it('HTTP: productpage is served; ratings, a caller without a certificate and one signed by another CA get 403 RBAC', async () => {
    const before = app.received.length;
    expect((await httpsGet(productpage, '/reviews/1')).status).toBe(200);
    for (const who of [ratings, undefined, foreign]) {
      const r = await httpsGet(who, '/reviews/1');
      expect(r.status).toBe(403);
      expect(r.body).toBe('RBAC: access denied\n');
      expect(r.flags).toBe('RBAC');
    }
    expect(app.received.length - before).toBe(1);
    expect(denials.filter((d) => d === 'denied - http')).toHaveLength(3);
  });

  it('TCP: the same policy on the L4 path; a denied connection is closed before the app is dialled', async () => {
    const accepted = tcpAccepted;
    expect(await tcpOverTls(productpage)).toBe('hello from the app\n');
    expect(await tcpOverTls(ratings)).toBe('');
    expect(await tcpOverTls(undefined)).toBe('');
    expect(tcpAccepted - accepted).toBe(1);
    expect(denials.filter((d) => d === 'denied - tcp')).toHaveLength(2);
  });

  it('namespaces and notPrincipals; a new snapshot applies to the next connection', async () => {
    snapshot = snapshotOf(ap('ns', '  rules: [{ from: [{ source: { namespaces: [default], notPrincipals: ["*/sa/bookinfo-ratings"] } }] }]'));
    expect((await httpsGet(productpage)).status).toBe(200);
    expect((await httpsGet(ratings)).status).toBe(403);
    snapshot = snapshotOf(ap('deny-ratings', '  action: DENY\n  rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-ratings"] } }] }]'));
    expect((await httpsGet(ratings)).status).toBe(403);
    expect((await httpsGet(undefined)).status).toBe(200);
    expect(await tcpOverTls(ratings)).toBe('');
    expect(await tcpOverTls(productpage)).toBe('hello from the app\n');
  });
});
