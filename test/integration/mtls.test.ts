// Automatic mutual TLS between two real sidecar processes (bin/meshlet.js)
// whose certificates come from a real control plane's CA: the caller's sidecar
// originates mTLS to the callee's inbound listener (the bytes between them are
// TLS, captured by a relay), verifies the callee's SPIFFE ID, reuses
// connections; the callee's PeerAuthentication decides what plaintext gets
// (PERMISSIVE serves it, STRICT refuses and counts it, port-level overrides).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import { send } from '../support/http-client.js';
import { startMeshlet, until, type MeshletProc } from '../support/meshlet-process.js';
import { freePort, startCapture } from '../support/tcp-capture.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const TOKENS = [
  { token: 'productpage-token-0123456789abcdef', nodeId: 'productpage-v1', namespace: 'default', serviceAccount: 'bookinfo-productpage' },
  { token: 'reviews-token-0123456789abcdef0123', nodeId: 'reviews-v1', namespace: 'default', serviceAccount: 'bookinfo-reviews' },
];

const serviceEntries = (reviewsPort: number, plainPort: number): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints:
    - { address: 127.0.0.1, ports: { http: ${reviewsPort} }, labels: { app: reviews, version: v1, security.meshlet.io/tlsMode: istio } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: legacy }
spec:
  hosts: [legacy]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints:
    - { address: 127.0.0.1, ports: { http: ${plainPort} }, labels: { app: legacy } }
`;

const metric = async (p: MeshletProc, name: string, labels = ''): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${p.metrics}/stats/prometheus`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + (labels ? `{${labels}` : '')) && (labels !== '' || line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
};

let cp: RunningControlPlane;
let dir: string;
let caller: MeshletProc;
let callee: MeshletProc;
let app: Upstream;
let legacyApp: Upstream;
let capture: Awaited<ReturnType<typeof startCapture>>;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshlet-mtls-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'config');
  await import('node:fs/promises').then((fs) => fs.mkdir(config));
  await writeFile(join(dir, 'tokens.yaml'), stringify(TOKENS));
  for (const t of TOKENS) await writeFile(join(dir, `${t.nodeId}.token`), t.token + '\n');
  app = await startUpstream('reviews');
  legacyApp = await startUpstream('legacy');
  cleanups.push(() => app.close(), () => legacyApp.close());
  const calleeInbound = await freePort();
  capture = await startCapture(calleeInbound);
  cleanups.push(() => capture.server.close());
  await writeFile(join(config, '10-services.yaml'), serviceEntries(capture.port, legacyApp.port));
  cp = await startControlPlane({
    configDir: config,
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    metricsPort: -1,
    // 10 s certificates: both sidecars rotate every ~5 s while the tests run (rotation under traffic).
    security: { caDir: join(dir, 'ca'), bootstrapTokensFile: join(dir, 'tokens.yaml'), certTtlMs: 10_000 },
    log: () => {},
  });
  cleanups.push(() => cp.close());
  const common = ['--control-plane', `127.0.0.1:${cp.port}`, '--ca-cert', join(dir, 'ca', 'root-cert.pem')];
  callee = await startMeshlet([...common, '--token-file', join(dir, 'reviews-v1.token'), '--service-account', 'bookinfo-reviews', '--workload', 'reviews-v1', '--labels', 'app=reviews,version=v1', '--app-port', String(app.port), '--inbound-port', String(calleeInbound)]);
  cleanups.push(() => callee.stop());
  caller = await startMeshlet([...common, '--token-file', join(dir, 'productpage-v1.token'), '--service-account', 'bookinfo-productpage', '--workload', 'productpage-v1']);
  cleanups.push(() => caller.stop());
  for (const p of [caller, callee]) await until(async () => ((await fetch(`http://127.0.0.1:${p.admin}/ready`)).status === 200 ? true : undefined), 30_000, 100);
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const writePolicy = (name: string, yaml: string): Promise<void> => writeFile(join(dir, 'config', name), yaml);
const removePolicy = (name: string): Promise<void> => rm(join(dir, 'config', name), { force: true });
/** Waits until both sidecars run the control plane's current config version. */
async function synced(): Promise<void> {
  await until(async () => {
    const versions = await Promise.all([caller, callee].map(async (p) => ((await (await fetch(`http://127.0.0.1:${p.admin}/server_info`)).json()) as { version: string | null }).version));
    const want = (cp as unknown as { currentVersion?: () => string }).currentVersion?.();
    return versions[0] !== null && versions[0] === versions[1] && (want === undefined || versions[0] === want) ? true : undefined;
  }, 20_000, 100);
}
/** A plaintext request straight to the callee's inbound port: its status, or 'refused' when the connection was closed. */
async function plaintextToCallee(): Promise<number | 'refused'> {
  try {
    return (await send(callee.inbound, { host: 'reviews', timeoutMs: 5000 })).status;
  } catch {
    return 'refused';
  }
}

describe('automatic mTLS between sidecars', () => {
  it('originates mTLS to a sidecar endpoint: only TLS on the wire, the callee sees the caller\'s verified identity', async () => {
    const before = capture.bytes().length;
    const r = await send(caller.outbound, { host: 'reviews:9080', path: '/mtls' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ name: 'reviews', url: '/mtls' });
    const wire = capture.bytes().subarray(before);
    expect(wire.length).toBeGreaterThan(0);
    expect(wire[0]).toBe(0x16); // a TLS handshake record
    expect(wire.includes(Buffer.from('/mtls'))).toBe(false);
    expect(wire.includes(Buffer.from('HTTP/1.1'))).toBe(false);
    expect(await metric(caller, 'meshlet_tls_handshakes_total', 'direction="outbound"')).toBeGreaterThanOrEqual(1);
    expect(await metric(callee, 'meshlet_tls_handshakes_total', 'direction="inbound"')).toBeGreaterThanOrEqual(1);
  });

  it('sends plaintext to an endpoint without a sidecar', async () => {
    const r = await send(caller.outbound, { host: 'legacy:9080', path: '/plain' });
    expect(r.status).toBe(200);
    expect(legacyApp.received.at(-1)?.url).toBe('/plain');
  });

  it('reuses connections and resumes sessions: far fewer handshakes than requests', async () => {
    const before = await metric(caller, 'meshlet_tls_handshakes_total', 'direction="outbound"');
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    for (let i = 0; i < 200; i += 8) await Promise.all(Array.from({ length: 8 }, () => send(caller.outbound, { host: 'reviews:9080', agent }).then((r) => expect(r.status).toBe(200))));
    agent.destroy();
    const handshakes = (await metric(caller, 'meshlet_tls_handshakes_total', 'direction="outbound"')) - before;
    expect(handshakes).toBeLessThanOrEqual(8);
  });

  it('PERMISSIVE (the default) serves plaintext; STRICT refuses it and counts it while mTLS keeps working; a port-level PERMISSIVE reopens the app port', async () => {
    expect(await plaintextToCallee()).toBe(200);
    await writePolicy(
      '50-strict.yaml',
      `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: default }
spec:
  mtls: { mode: STRICT }
`,
    );
    await until(async () => ((await plaintextToCallee()) === 'refused' ? true : undefined), 20_000, 200);
    expect(await metric(callee, 'meshlet_mtls_refused_connections_total')).toBeGreaterThanOrEqual(1);
    expect((await send(caller.outbound, { host: 'reviews:9080', path: '/strict' })).status).toBe(200);
    await writePolicy(
      '51-port.yaml',
      `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews-port, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  portLevelMtls:
    "${app.port}": { mode: PERMISSIVE }
`,
    );
    // The workload policy (selector app=reviews) opens the app's port again; the namespace stays STRICT.
    await until(async () => ((await plaintextToCallee()) === 200 ? true : undefined), 20_000, 200);
    await writePolicy(
      '51-port.yaml',
      `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews-port, namespace: default }
spec:
  selector: { matchLabels: { app: ratings } }
  portLevelMtls:
    "${app.port}": { mode: PERMISSIVE }
`,
    );
    // A selector that does not match this workload changes nothing: STRICT from the namespace again.
    await until(async () => ((await plaintextToCallee()) === 'refused' ? true : undefined), 20_000, 200);
    await removePolicy('51-port.yaml');
    await removePolicy('50-strict.yaml');
    await until(async () => ((await plaintextToCallee()) === 200 ? true : undefined), 20_000, 200);
  });

  it('refuses a peer whose identity is not the destination\'s (DestinationRule subjectAltNames): 503 with flag UF, nothing reaches the app', async () => {
    await writePolicy(
      '60-dr.yaml',
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy:
    tls: { mode: ISTIO_MUTUAL, subjectAltNames: [spiffe://cluster.local/ns/default/sa/someone-else] }
`,
    );
    await until(async () => ((await send(caller.outbound, { host: 'reviews:9080', path: '/probe' })).status === 503 ? true : undefined), 20_000, 200);
    const seen = app.received.length;
    const r = await send(caller.outbound, { host: 'reviews:9080', path: '/wrong-peer' });
    expect(r.status).toBe(503);
    expect(String(r.headers['x-meshlet-flags'] ?? r.body)).toMatch(/UF/);
    expect(app.received.slice(seen).some((x) => x.url === '/wrong-peer')).toBe(false);
    expect(await metric(caller, 'meshlet_tls_handshake_errors_total', 'direction="outbound"')).toBeGreaterThanOrEqual(1);
    await removePolicy('60-dr.yaml');
    await until(async () => ((await send(caller.outbound, { host: 'reviews:9080' })).status === 200 ? true : undefined), 20_000, 200);
  });

  it('a forged x-meshlet-peer or x-forwarded-client-cert on a plaintext connection labels nothing and never reaches the app', async () => {
    const r = await send(callee.inbound, { host: 'reviews', path: '/forged', headers: { 'x-meshlet-peer': 'admin-v1;kube-system;admin;v1', 'x-forwarded-client-cert': 'By=x;URI=spiffe://cluster.local/ns/kube-system/sa/admin' } });
    expect(r.status).toBe(200);
    const got = app.received.find((x) => x.url === '/forged')!;
    expect(got.headers['x-meshlet-peer']).toBeUndefined();
    expect(got.headers['x-forwarded-client-cert']).toBeUndefined();
    const text = await (await fetch(`http://127.0.0.1:${callee.metrics}/stats/prometheus`)).text();
    expect(text).not.toMatch(/istio_requests_total\{[^}]*source_workload="admin-v1"/);
    expect(text).toMatch(/istio_requests_total\{reporter="destination",source_workload="unknown",[^}]*connection_security_policy="none"/);
  });

  it('over mTLS the callee reports both principals and mutual_tls, and the app gets XFCC naming the verified caller', async () => {
    const r = await send(caller.outbound, { host: 'reviews:9080', path: '/xfcc', headers: { 'x-forwarded-client-cert': 'By=forged' } });
    expect(r.status).toBe(200);
    const xfcc = String(app.received.find((x) => x.url === '/xfcc')?.headers['x-forwarded-client-cert']);
    expect(xfcc).toMatch(/^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage$/);
    const text = await (await fetch(`http://127.0.0.1:${callee.metrics}/stats/prometheus`)).text();
    const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{reporter="destination",source_workload="productpage-v1"'));
    expect(line).toBeDefined();
    expect(line).toContain('source_principal="spiffe://cluster.local/ns/default/sa/bookinfo-productpage"');
    expect(line).toContain('destination_principal="spiffe://cluster.local/ns/default/sa/bookinfo-reviews"');
    expect(line).toContain('connection_security_policy="mutual_tls"');
    const out = await (await fetch(`http://127.0.0.1:${caller.metrics}/stats/prometheus`)).text();
    expect(out).toMatch(/istio_requests_total\{reporter="source",source_workload="productpage-v1",source_workload_namespace="default",source_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage"/);
    // The caller names the callee it verified (HTTP/1.1 over mTLS; the HTTP/2 case is in mtls-modes.test.ts).
    expect(out).toMatch(/istio_requests_total\{reporter="source",source_workload="productpage-v1",[^}]*destination_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews",[^}]*response_code="200"/);
  });

  it('keeps serving across certificate rotations of both sidecars: steady traffic, 0 failures', async () => {
    const expiry = async (p: MeshletProc): Promise<string> => String(((await (await fetch(`http://127.0.0.1:${p.admin}/server_info`)).json()) as { cert_expires_at: string }).cert_expires_at);
    const first = [await expiry(caller), await expiry(callee)];
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    let ok = 0;
    const failures: string[] = [];
    const deadline = Date.now() + 30_000;
    // Until each sidecar has rotated at least once (bounded), keep requests flowing.
    while (Date.now() < deadline) {
      const r = await send(caller.outbound, { host: 'reviews:9080', agent }).catch((e: Error) => ({ status: 0, body: e.message }));
      if (r.status === 200) ok++;
      else failures.push(`${r.status} ${r.body}`);
      if ((await expiry(caller)) !== first[0] && (await expiry(callee)) !== first[1] && ok > 20) break;
    }
    agent.destroy();
    expect(failures).toEqual([]);
    expect(await expiry(caller)).not.toBe(first[0]);
    expect(await expiry(callee)).not.toBe(first[1]);
    expect((await send(caller.outbound, { host: 'reviews:9080' })).status).toBe(200);
  }, 60_000);
});
