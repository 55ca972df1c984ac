// The authorization example through real sidecar processes with
// automatic mTLS between them: reviews allows only productpage's service
// account; the same request from ratings' sidecar (a valid mesh identity, the
// wrong one) gets 403 RBAC, and a plaintext caller has no principal at all.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import { send } from '../support/http-client.js';
import { startMeshlet, until, type MeshletProc } from '../support/meshlet-process.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const TOKENS = [
  { token: 'productpage-token-0123456789abcdef', nodeId: 'productpage-v1', namespace: 'default', serviceAccount: 'bookinfo-productpage' },
  { token: 'ratings-token-0123456789abcdef0123', nodeId: 'ratings-v1', namespace: 'default', serviceAccount: 'bookinfo-ratings' },
  { token: 'reviews-token-0123456789abcdef0123', nodeId: 'reviews-v1', namespace: 'default', serviceAccount: 'bookinfo-reviews' },
];

const CONFIG = (reviewsInbound: number): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints:
    - { address: 127.0.0.1, ports: { http: ${reviewsInbound} }, labels: { app: reviews, security.meshlet.io/tlsMode: istio } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews-from-productpage, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }] }]
`;

let cp: RunningControlPlane;
let app: Upstream;
const procs: Record<string, MeshletProc> = {};
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meshlet-authz-mtls-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'tokens.yaml'), stringify(TOKENS));
  for (const t of TOKENS) await writeFile(join(dir, `${t.nodeId}.token`), t.token + '\n');
  app = await startUpstream('reviews');
  cleanups.push(() => app.close());
  const probe = await startUpstream('port-probe');
  const reviewsInbound = probe.port;
  await probe.close();
  await writeFile(join(dir, 'config', 'mesh.yaml'), CONFIG(reviewsInbound));
  cp = await startControlPlane({ configDir: join(dir, 'config'), grpcHost: '127.0.0.1', grpcPort: 0, metricsPort: -1, security: { caDir: join(dir, 'ca'), bootstrapTokensFile: join(dir, 'tokens.yaml') }, log: () => {} });
  cleanups.push(() => cp.close());
  const common = ['--control-plane', `127.0.0.1:${cp.port}`, '--ca-cert', join(dir, 'ca', 'root-cert.pem'), '--access-log', 'off'];
  const start = async (name: string, sa: string, extra: string[]): Promise<void> => {
    const p = await startMeshlet([...common, '--token-file', join(dir, `${name}.token`), '--service-account', sa, '--workload', name, ...extra], {}, 40_000);
    cleanups.push(() => p.stop());
    procs[name] = p;
  };
  await Promise.all([
    start('reviews-v1', 'bookinfo-reviews', ['--labels', 'app=reviews,version=v1', '--app-port', String(app.port), '--inbound-port', String(reviewsInbound)]),
    start('productpage-v1', 'bookinfo-productpage', ['--labels', 'app=productpage']),
    start('ratings-v1', 'bookinfo-ratings', ['--labels', 'app=ratings']),
  ]);
  for (const p of Object.values(procs)) await until(async () => ((await fetch(`http://127.0.0.1:${p.admin}/ready`)).status === 200 ? true : undefined), 40_000, 100);
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('AuthorizationPolicy on principals over automatic mTLS (real sidecar processes)', () => {
  it("productpage's sidecar is served; ratings' sidecar gets 403 RBAC; a plaintext caller is denied too", async () => {
    const ok = await until(async () => {
      const r = await send(procs['productpage-v1']!.outbound, { host: 'reviews:9080', path: '/reviews/1' });
      return r.status === 200 ? r : undefined;
    }, 20_000);
    expect(JSON.parse(ok.body)).toMatchObject({ name: 'reviews' });
    const denied = await send(procs['ratings-v1']!.outbound, { host: 'reviews:9080', path: '/reviews/1' });
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('RBAC: access denied\n');
    expect(String(denied.headers['x-meshlet-flags'])).toContain('RBAC');
    const plain = await send(procs['reviews-v1']!.inbound, { host: 'reviews', path: '/reviews/1' });
    expect(plain.status).toBe(403);
    expect(app.received.filter((r) => r.url === '/reviews/1')).toHaveLength(1);
    const m = await (await fetch(`http://127.0.0.1:${procs['reviews-v1']!.metrics}/stats/prometheus`)).text();
    expect(m).toMatch(/meshlet_authorization_total\{decision="denied",policy="",protocol="http"\} 2/);
  });
});
