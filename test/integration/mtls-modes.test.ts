// Automatic mTLS beyond the basics of mtls.test.ts, between real sidecar
// processes (bin/meshlet.js) whose certificates come from a real control
// plane: gRPC (grpc-js client → sidecar → mTLS over HTTP/2 → sidecars →
// grpc-js servers) with per-call balancing; a DestinationRule `tls: DISABLE`
// that sends plaintext to a sidecar even though automatic mTLS would apply;
// PeerAuthentication mesh-wide (root namespace istio-system), DISABLE, and
// its precedence workload > namespace > mesh, and port-level over workload.
// Relays in front of two callees record the bytes an attacker on the wire sees.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import { echoClient, grpc, startEchoServer, unary, type EchoReply, type EchoServer } from '../support/grpc-echo.js';
import { send } from '../support/http-client.js';
import { startMeshlet, until, type MeshletProc } from '../support/meshlet-process.js';
import { freePort, startCapture } from '../support/tcp-capture.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const TOKENS = [
  { token: 'productpage-token-0123456789abcdef', nodeId: 'productpage-v1', namespace: 'default', serviceAccount: 'bookinfo-productpage' },
  { token: 'reviews-token-0123456789abcdef0123', nodeId: 'reviews-v1', namespace: 'default', serviceAccount: 'bookinfo-reviews' },
  { token: 'ratings-a-token-0123456789abcdef01', nodeId: 'ratings-a', namespace: 'default', serviceAccount: 'bookinfo-ratings' },
  { token: 'ratings-b-token-0123456789abcdef01', nodeId: 'ratings-b', namespace: 'default', serviceAccount: 'bookinfo-ratings' },
];

const services = (reviewsPort: number, ratingsA: number, ratingsB: number): string => `
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
metadata: { name: ratings }
spec:
  hosts: [ratings]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9090, name: grpc, protocol: GRPC }]
  endpoints:
    - { address: 127.0.0.1, ports: { grpc: ${ratingsA} }, labels: { app: ratings, version: a, security.meshlet.io/tlsMode: istio } }
    - { address: 127.0.0.1, ports: { grpc: ${ratingsB} }, labels: { app: ratings, version: b, security.meshlet.io/tlsMode: istio } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings }
spec:
  host: ratings
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
`;

const metricsText = async (p: MeshletProc): Promise<string> => (await fetch(`http://127.0.0.1:${p.metrics}/stats/prometheus`)).text();
const metric = async (p: MeshletProc, name: string, labels = ''): Promise<number> => {
  let sum = 0;
  for (const line of (await metricsText(p)).split('\n')) if (line.startsWith(name + (labels ? `{${labels}` : '{')) || line.startsWith(name + ' ')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
};

let cp: RunningControlPlane;
let dir: string;
let caller: MeshletProc;
let reviews: MeshletProc;
let ratingsA: MeshletProc;
let ratingsB: MeshletProc;
let app: Upstream;
let echoA: EchoServer;
let echoB: EchoServer;
let reviewsWire: Awaited<ReturnType<typeof startCapture>>;
let ratingsWire: Awaited<ReturnType<typeof startCapture>>;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshlet-mtls-modes-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'config');
  await mkdir(config);
  await writeFile(join(dir, 'tokens.yaml'), stringify(TOKENS));
  for (const t of TOKENS) await writeFile(join(dir, `${t.nodeId}.token`), t.token + '\n');
  app = await startUpstream('reviews');
  [echoA, echoB] = await Promise.all([startEchoServer('a'), startEchoServer('b')]);
  cleanups.push(() => app.close(), () => echoA.close(), () => echoB.close());
  const [reviewsInbound, ratingsAInbound, ratingsBInbound] = [await freePort(), await freePort(), await freePort()];
  reviewsWire = await startCapture(reviewsInbound);
  ratingsWire = await startCapture(ratingsAInbound);
  cleanups.push(() => reviewsWire.server.close(), () => ratingsWire.server.close());
  await writeFile(join(config, '10-services.yaml'), services(reviewsWire.port, ratingsWire.port, ratingsBInbound));
  cp = await startControlPlane({
    configDir: config,
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    metricsPort: -1,
    security: { caDir: join(dir, 'ca'), bootstrapTokensFile: join(dir, 'tokens.yaml') },
    log: () => {},
  });
  cleanups.push(() => cp.close());
  const common = ['--control-plane', `127.0.0.1:${cp.port}`, '--ca-cert', join(dir, 'ca', 'root-cert.pem')];
  const sidecar = (node: string, sa: string, extra: string[]): Promise<MeshletProc> => startMeshlet([...common, '--token-file', join(dir, `${node}.token`), '--service-account', sa, '--workload', node, ...extra], {}, 60_000);
  [reviews, ratingsA, ratingsB, caller] = await Promise.all([
    sidecar('reviews-v1', 'bookinfo-reviews', ['--labels', 'app=reviews,version=v1', '--app-port', String(app.port), '--inbound-port', String(reviewsInbound)]),
    sidecar('ratings-a', 'bookinfo-ratings', ['--labels', 'app=ratings,version=a', '--app-port', String(echoA.port), '--inbound-port', String(ratingsAInbound)]),
    sidecar('ratings-b', 'bookinfo-ratings', ['--labels', 'app=ratings,version=b', '--app-port', String(echoB.port), '--inbound-port', String(ratingsBInbound)]),
    sidecar('productpage-v1', 'bookinfo-productpage', []),
  ]);
  cleanups.push(() => caller.stop(), () => reviews.stop(), () => ratingsA.stop(), () => ratingsB.stop());
  for (const p of [caller, reviews, ratingsA, ratingsB]) await until(async () => ((await fetch(`http://127.0.0.1:${p.admin}/ready`)).status === 200 ? true : undefined), 30_000, 100);
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const writeConfig = (name: string, yaml: string): Promise<void> => writeFile(join(dir, 'config', name), yaml);
const removeConfig = (name: string): Promise<void> => rm(join(dir, 'config', name), { force: true });

/** A plaintext request straight to the reviews sidecar's inbound port: its status, or 'refused'. */
async function plaintextToReviews(): Promise<number | 'refused'> {
  try {
    return (await send(reviews.inbound, { host: 'reviews', timeoutMs: 5000 })).status;
  } catch {
    return 'refused';
  }
}
const viaMesh = async (path: string): Promise<number> => (await send(caller.outbound, { host: 'reviews:9080', path })).status;
const pa = (name: string, ns: string, spec: string): string => `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ${name}, namespace: ${ns} }
spec:
${spec}
`;

describe('gRPC between sidecars over automatic mTLS', () => {
  it('grpc-js → sidecar → mTLS (h2) → sidecars → grpc-js: every call shape works, calls are balanced per call, only TLS on the wire', async () => {
    const before = ratingsWire.bytes().length;
    const handshakesBefore = await metric(caller, 'meshlet_tls_handshakes_total', 'direction="outbound"');
    const cl = echoClient(caller.outbound, 'ratings:9090') as grpc.Client & Record<string, (...x: unknown[]) => unknown>;
    try {
      const replies: EchoReply[] = [];
      for (let i = 0; i < 20; i++) replies.push(await unary(cl, 'Unary', { text: `call-${i}` }));
      const by = (s: string): number => replies.filter((r) => r.server === s).length;
      // One client connection to the caller's sidecar; the balancing is the sidecar's, per call.
      expect([by('a'), by('b')]).toEqual([10, 10]);
      const got: string[] = [];
      await new Promise<void>((res, rej) => {
        const call = (cl['ServerStream'] as (r: unknown) => grpc.ClientReadableStream<EchoReply>)({ text: 's', count: 200 });
        call.on('data', (r: EchoReply) => got.push(r.text));
        call.on('error', rej);
        call.on('end', () => res());
      });
      expect(got).toHaveLength(200);
      const bidi = (cl['Bidi'] as () => grpc.ClientDuplexStream<unknown, EchoReply>)();
      const next = new Promise<EchoReply>((res) => bidi.once('data', res));
      bidi.write({ text: 'x', count: 0 });
      expect((await next).text).toBe('X');
      bidi.end();
    } finally {
      cl.close();
    }
    const wire = ratingsWire.bytes().subarray(before);
    expect(wire.length).toBeGreaterThan(0);
    expect(wire[0]).toBe(0x16);
    expect(wire.includes(Buffer.from('meshlet.test.Echo'))).toBe(false);
    expect(wire.includes(Buffer.from('PRI * HTTP/2.0'))).toBe(false);
    // Two endpoints, HTTP/2 multiplexing: a couple of handshakes for 22 calls.
    const handshakes = (await metric(caller, 'meshlet_tls_handshakes_total', 'direction="outbound"')) - handshakesBefore;
    expect(handshakes).toBeGreaterThanOrEqual(2);
    expect(handshakes).toBeLessThanOrEqual(4);
    // The callees saw the caller's verified identity over mTLS.
    const inbound = (await metricsText(ratingsA)).split('\n').find((l) => l.startsWith('istio_requests_total{reporter="destination",source_workload="productpage-v1"') && l.includes('request_protocol="grpc"'));
    expect(inbound).toContain('source_principal="spiffe://cluster.local/ns/default/sa/bookinfo-productpage"');
    expect(inbound).toContain('connection_security_policy="mutual_tls"');
    expect(inbound).toContain('grpc_response_status="0"');
  });

  it('the caller reports the callee\'s verified SPIFFE ID as destination_principal (Istio\'s source-side metrics)', async () => {
    const text = await metricsText(caller);
    const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{reporter="source"') && l.includes('destination_service_name="ratings"') && l.includes('response_code="200"'));
    expect(line).toBeDefined();
    expect(line).toContain('source_principal="spiffe://cluster.local/ns/default/sa/bookinfo-productpage"');
    expect(line).toContain('destination_principal="spiffe://cluster.local/ns/default/sa/bookinfo-ratings"');
  });

  it('an AuthorizationPolicy on the callee matches the caller\'s principal read from mTLS over HTTP/2: DENY → PERMISSION_DENIED', async () => {
    await writeConfig(
      '80-authz.yaml',
      `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-productpage, namespace: default }
spec:
  selector: { matchLabels: { app: ratings } }
  action: DENY
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }] }]
`,
    );
    const cl = echoClient(caller.outbound, 'ratings:9090') as grpc.Client;
    try {
      const code = await until(async () => {
        const e = await unary(cl, 'Unary', {}).then(() => undefined, (err: grpc.ServiceError) => err);
        return e?.code === grpc.status.PERMISSION_DENIED ? e.code : undefined;
      }, 20_000, 200);
      expect(code).toBe(grpc.status.PERMISSION_DENIED);
      await removeConfig('80-authz.yaml');
      await until(async () => ((await unary(cl, 'Unary', {}).then(() => true, () => undefined)) === true ? true : undefined), 20_000, 200);
    } finally {
      cl.close();
      await removeConfig('80-authz.yaml');
    }
  });
});

describe('DestinationRule tls DISABLE to a sidecar', () => {
  it('sends plaintext even though the endpoint runs a sidecar (automatic mTLS would apply); removing it restores mTLS', async () => {
    await writeConfig(
      '60-dr-disable.yaml',
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy: { tls: { mode: DISABLE } }
`,
    );
    const marker = Buffer.from('/disabled-probe');
    await until(async () => {
      const at = reviewsWire.bytes().length;
      if ((await viaMesh('/disabled-probe')) !== 200) return undefined;
      return reviewsWire.bytes().subarray(at).includes(marker) ? true : undefined;
    }, 20_000, 200);
    const at = reviewsWire.bytes().length;
    expect(await viaMesh('/disabled')).toBe(200);
    const wire = reviewsWire.bytes().subarray(at);
    expect(wire.subarray(0, 14).toString()).toBe('GET /disabled ');
    // Plaintext reaches the callee: no identity, no XFCC.
    expect(app.received.find((x) => x.url === '/disabled')?.headers['x-forwarded-client-cert']).toBeUndefined();
    await removeConfig('60-dr-disable.yaml');
    await until(async () => {
      const from = reviewsWire.bytes().length;
      if ((await viaMesh('/mtls-again')) !== 200) return undefined;
      return reviewsWire.bytes()[from] === 0x16 ? true : undefined;
    }, 20_000, 200);
  });
});

describe('PeerAuthentication scopes', () => {
  it('mesh-wide STRICT (root namespace istio-system) refuses plaintext; namespace PERMISSIVE overrides it; a workload STRICT overrides that', async () => {
    expect(await plaintextToReviews()).toBe(200);
    await writeConfig('70-mesh.yaml', pa('default', 'istio-system', '  mtls: { mode: STRICT }'));
    await until(async () => ((await plaintextToReviews()) === 'refused' ? true : undefined), 20_000, 200);
    expect(await viaMesh('/mesh-strict')).toBe(200);
    // namespace > mesh
    await writeConfig('71-ns.yaml', pa('default', 'default', '  mtls: { mode: PERMISSIVE }'));
    await until(async () => ((await plaintextToReviews()) === 200 ? true : undefined), 20_000, 200);
    // workload > namespace
    await writeConfig('72-workload.yaml', pa('reviews', 'default', '  selector: { matchLabels: { app: reviews } }\n  mtls: { mode: STRICT }'));
    await until(async () => ((await plaintextToReviews()) === 'refused' ? true : undefined), 20_000, 200);
    // A workload policy with mode UNSET inherits the namespace's (PERMISSIVE).
    await writeConfig('72-workload.yaml', pa('reviews', 'default', '  selector: { matchLabels: { app: reviews } }\n  mtls: { mode: UNSET }'));
    await until(async () => ((await plaintextToReviews()) === 200 ? true : undefined), 20_000, 200);
    await removeConfig('71-ns.yaml');
    // ... and with no namespace policy, the mesh's (STRICT).
    await until(async () => ((await plaintextToReviews()) === 'refused' ? true : undefined), 20_000, 200);
    await removeConfig('72-workload.yaml');
    await removeConfig('70-mesh.yaml');
    await until(async () => ((await plaintextToReviews()) === 200 ? true : undefined), 20_000, 200);
  });

  it('tightening to STRICT closes plaintext connections opened before it (counted), while mTLS keeps working', async () => {
    expect(await plaintextToReviews()).toBe(200);
    // A keep-alive plaintext connection, used once, then left open.
    const sock = connect(reviews.inbound, '127.0.0.1');
    let closed = false;
    let got = '';
    sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
    sock.on('close', () => (closed = true));
    sock.on('error', () => undefined);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('GET /before-strict HTTP/1.1\r\nHost: reviews\r\n\r\n');
    await until(() => (got.startsWith('HTTP/1.1 200') && got.includes('/before-strict') ? true : undefined), 10_000, 20);
    const refusedBefore = await metric(reviews, 'meshlet_mtls_refused_connections_total');
    await writeConfig('70-mesh.yaml', pa('default', 'istio-system', '  mtls: { mode: STRICT }'));
    await until(() => (closed ? true : undefined), 20_000, 50);
    expect(await metric(reviews, 'meshlet_mtls_refused_connections_total')).toBeGreaterThan(refusedBefore);
    expect(await plaintextToReviews()).toBe('refused');
    expect(await viaMesh('/after-strict')).toBe(200);
    await removeConfig('70-mesh.yaml');
    await until(async () => ((await plaintextToReviews()) === 200 ? true : undefined), 20_000, 200);
  });

  it('DISABLE terminates nothing: plaintext is served, a caller\'s mesh mTLS fails (503 UF) until a DestinationRule DISABLE; port-level DISABLE under a STRICT workload', async () => {
    await writeConfig('70-mesh.yaml', pa('default', 'istio-system', '  mtls: { mode: STRICT }'));
    await until(async () => ((await plaintextToReviews()) === 'refused' ? true : undefined), 20_000, 200);
    await writeConfig('71-ns.yaml', pa('default', 'default', '  mtls: { mode: DISABLE }'));
    // The namespace's DISABLE wins over the mesh's STRICT: plaintext served.
    await until(async () => ((await plaintextToReviews()) === 200 ? true : undefined), 20_000, 200);
    // Connections opened before the change keep their terms until they close
    // (upstream keep-alive idle: 4 s, so probe more slowly than that); new ones
    // from the caller's sidecar meet DISABLE.
    await until(async () => ((await viaMesh('/into-disable-probe')) === 503 ? true : undefined), 40_000, 4_500);
    const inboundHandshakes = await metric(reviews, 'meshlet_tls_handshakes_total', 'direction="inbound"');
    const seen = app.received.length;
    const r = await send(caller.outbound, { host: 'reviews:9080', path: '/into-disable' });
    expect(r.status).toBe(503);
    expect(String(r.headers['x-meshlet-flags'])).toMatch(/^UF/);
    expect(app.received.slice(seen).some((x) => x.url === '/into-disable')).toBe(false);
    expect(await metric(reviews, 'meshlet_tls_handshakes_total', 'direction="inbound"')).toBe(inboundHandshakes);
    // Port level (the app's port) over the workload's mode: workload STRICT, its app port DISABLE.
    await writeConfig('72-workload.yaml', pa('reviews', 'default', `  selector: { matchLabels: { app: reviews } }\n  mtls: { mode: STRICT }\n  portLevelMtls:\n    "${app.port}": { mode: DISABLE }`));
    await writeConfig(
      '60-dr-disable.yaml',
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy: { tls: { mode: DISABLE } }
`,
    );
    await until(async () => ((await viaMesh('/dr-disable')) === 200 ? true : undefined), 20_000, 200);
    expect(await plaintextToReviews()).toBe(200);
    // Without the port-level entry the workload's STRICT applies again.
    await writeConfig('72-workload.yaml', pa('reviews', 'default', '  selector: { matchLabels: { app: reviews } }\n  mtls: { mode: STRICT }'));
    await until(async () => ((await plaintextToReviews()) === 'refused' ? true : undefined), 20_000, 200);
    for (const f of ['60-dr-disable.yaml', '72-workload.yaml', '71-ns.yaml', '70-mesh.yaml']) await removeConfig(f);
    await until(async () => ((await plaintextToReviews()) === 200 && (await viaMesh('/restored')) === 200 ? true : undefined), 20_000, 200);
  }, 90_000);
});
