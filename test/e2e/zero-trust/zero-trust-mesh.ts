// A Bookinfo-like zero-trust mesh in the pod rig (issue 15): productpage,
// reviews, ratings and redis pods, each with its app (uid 1000) and a real
// sidecar (uid 1337) under Istio's interception rules; a `legacy` pod with no
// sidecar and no rules; the control plane in the node namespace with its CA,
// bootstrap tokens and short-lived certificates (never --insecure). Mesh-wide
// STRICT PeerAuthentication, ratings opened to PERMISSIVE, and an
// AuthorizationPolicy letting only productpage's service account call reviews
// (HTTP) and redis (TCP).
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ROOT, until } from '../../support/meshlet-process.js';
import { PodRig, runCommand, type CommandResult, type PodProcess } from '../rig/index.js';
import { RIG_PATH } from '../rig/run-command.js';

export const APP_UID = 1000;
export const PROXY_UID = 1337;
export const NODE_IP = '10.244.0.1';
export const CP_GRPC = `${NODE_IP}:15010`;
export const CP_METRICS = 15014;

export const PODS = {
  productpage: { ip: '10.244.0.20', port: 9080 },
  reviews: { ip: '10.244.0.21', port: 9080 },
  ratings: { ip: '10.244.0.22', port: 9080 },
  redis: { ip: '10.244.0.23', port: 6379 },
  legacy: { ip: '10.244.0.24', port: 0 },
} as const;
export type PodName = keyof typeof PODS;
export const MESH_PODS = ['productpage', 'reviews', 'ratings', 'redis'] as const;
export type MeshPodName = (typeof MESH_PODS)[number];

export const spiffe = (app: string): string => `spiffe://cluster.local/ns/default/sa/bookinfo-${app}`;

// Each service has its VIP (a ClusterIP: the name resolves to it in every pod), so its port's protocol is declared.
const httpService = (app: 'productpage' | 'reviews' | 'ratings', vip: string): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${app}, namespace: default }
spec:
  hosts: [${app}]
  addresses: [${vip}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: [{ address: ${PODS[app].ip}, labels: { app: ${app} } }]
`;

/** The control plane's config dir: services, peer authentication, authorization. */
export const meshYaml = (vipOf: (service: string) => string): string => [
  httpService('productpage', vipOf('productpage')),
  httpService('reviews', vipOf('reviews')),
  httpService('ratings', vipOf('ratings')),
  `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: redis, namespace: default }
spec:
  hosts: [redis]
  addresses: [${vipOf('redis')}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 6379, name: tcp-redis, protocol: TCP }]
  endpoints: [{ address: ${PODS.redis.ip}, labels: { app: redis } }]
`,
  // Mesh-wide (root namespace) STRICT; ratings alone stays PERMISSIVE.
  `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: istio-system }
spec: { mtls: { mode: STRICT } }
`,
  `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: ratings-permissive, namespace: default }
spec:
  selector: { matchLabels: { app: ratings } }
  mtls: { mode: PERMISSIVE }
`,
  `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews-from-productpage, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }]
`,
  // The same rule on an opaque TCP workload: enforced per connection, on the verified peer.
  `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: redis-from-productpage, namespace: default }
spec:
  selector: { matchLabels: { app: redis } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }]
`,
].join('---\n');

// Every HTTP app answers with its pod name, the path, the x-zt-secret header it
// got and the XFCC its sidecar set; under /by-cert its "pod" is the caller's
// certificate hash instead, so a load generator counts requests per certificate.
const APP_JS = `require('http').createServer((q, r) => { q.resume(); q.on('end', () => {
  const xfcc = q.headers['x-forwarded-client-cert'] || ''; const h = /Hash=([0-9a-f]+)/.exec(xfcc);
  r.setHeader('content-type', 'application/json');
  r.end(JSON.stringify({ pod: q.url.startsWith('/by-cert') ? 'cert-' + (h ? h[1].slice(0, 16) : 'none') : process.env.POD_NAME, path: q.url, secret: q.headers['x-zt-secret'] || '', xfcc }));
}); }).listen(9080, () => console.log('app listening'));`;

// A GET from wherever it runs; prints one JSON line (status 0 = no response, with the error code).
const FETCH_JS = `fetch(process.argv[1], { headers: JSON.parse(process.argv[2]), signal: AbortSignal.timeout(8000) }).then(
  async (r) => console.log(JSON.stringify({ status: r.status, flags: r.headers.get('x-meshlet-flags') || '', body: await r.text() })),
  (e) => console.log(JSON.stringify({ status: 0, flags: '', body: String(e.cause?.code || e.cause?.message || e.name) })));`;

export interface Answer {
  readonly status: number;
  readonly flags: string;
  readonly body: string;
}

export class ZeroTrustMesh {
  readonly rig = new PodRig({ family: 'zt' });
  readonly work = mkdtempSync(join(tmpdir(), 'meshlet-zt-'));
  readonly configDir = join(this.work, 'config');
  readonly caDir = join(this.work, 'ca');
  readonly rootCert = join(this.work, 'root-cert.pem');
  readonly tokensFile = join(this.work, 'bootstrap-tokens.yaml');
  readonly sidecars = new Map<MeshPodName, PodProcess>();
  controlPlane: PodProcess | undefined;

  tokenFile(pod: PodName): string {
    return join(this.work, `${pod}.token`);
  }

  accessLogPath(pod: MeshPodName): string {
    return join(this.work, `access-${pod}.log`);
  }

  /** Everything up; resolves once every sidecar is /ready (it has its certificate and config). */
  async up(certTtl: string): Promise<void> {
    chmodSync(this.work, 0o777);
    mkdirSync(this.configDir);
    // One credential per pod (node id = pod name); legacy's is used only by the subscriber probes.
    const entries = (Object.keys(PODS) as PodName[]).map((p) => ({ token: randomBytes(24).toString('hex'), nodeId: p, namespace: 'default', serviceAccount: `bookinfo-${p}` }));
    for (const e of entries) writeFileSync(this.tokenFile(e.nodeId as PodName), `${e.token}\n`, { mode: 0o644 });
    writeFileSync(this.tokensFile, stringify(entries));
    await this.rig.up((Object.keys(PODS) as PodName[]).map((name) => ({ name, service: name, ip: PODS[name].ip, ...(name === 'legacy' ? { interception: null } : {}) })));
    writeFileSync(join(this.configDir, 'mesh.yaml'), meshYaml((s) => this.rig.vipOf(s)));
    const cp = this.rig.runInNode(process.execPath, [
      'bin/meshlet.js', 'control-plane', '--config-dir', this.configDir, '--grpc-port', '15010', '--metrics-port', String(CP_METRICS),
      '--ca-dir', this.caDir, '--bootstrap-tokens', this.tokensFile, '--cert-ttl', certTtl,
    ], { cwd: ROOT, logFile: join(this.work, 'control-plane.log') });
    this.controlPlane = cp;
    const apps = (['productpage', 'reviews', 'ratings'] as const).map((p) => this.rig.spawn(p, { uid: APP_UID, cmd: process.execPath, args: ['-e', APP_JS], logFile: join(this.work, `app-${p}.log`) }).waitForLine(/app listening/, 30_000));
    const redis = this.rig.spawn('redis', {
      uid: APP_UID,
      cmd: '/usr/bin/redis-server',
      args: ['--port', '6379', '--bind', '0.0.0.0', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', this.work],
    }).waitForLine(/Ready to accept connections/, 30_000);
    await cp.waitForLine(/control-plane: listening on/, 45_000);
    copyFileSync(join(this.caDir, 'root-cert.pem'), this.rootCert);
    chmodSync(this.rootCert, 0o644);
    await Promise.all([...apps, redis, ...MESH_PODS.map((p) => this.startSidecar(p))]);
  }

  async startSidecar(pod: MeshPodName): Promise<void> {
    const args = [
      'bin/meshlet.js', 'proxy', '--control-plane', CP_GRPC, '--ca-cert', this.rootCert, '--token-file', this.tokenFile(pod),
      '--service-account', `bookinfo-${pod}`, '--workload', pod, '--namespace', 'default', '--labels', `app=${pod},version=v1`,
      '--app-port', String(PODS[pod].port), '--access-log', this.accessLogPath(pod),
    ];
    const proc = this.rig.spawn(pod, { uid: PROXY_UID, cmd: process.execPath, args, cwd: ROOT, logFile: join(this.work, `sidecar-${pod}.log`) });
    this.sidecars.set(pod, proc);
    await proc.waitForLine(/meshlet proxy listening/, 60_000);
    await until(async () => (await this.get(pod, 'http://127.0.0.1:15000/ready', { asRoot: true })).status === 200, 45_000, 200);
  }

  /** A GET from inside `pod`, as the app's uid (captured by the pod's rules unless it goes to loopback). */
  async get(pod: PodName, url: string, opts: { headers?: Record<string, string>; asRoot?: boolean } = {}): Promise<Answer> {
    const r = await this.rig.exec(pod, process.execPath, ['-e', FETCH_JS, url, JSON.stringify(opts.headers ?? {})], { ...(opts.asRoot ? {} : { uid: APP_UID }), timeoutMs: 20_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) throw new Error(`fetch in ${pod} printed nothing (exit ${r.code}): ${r.stderr.slice(-1000)}`);
    return JSON.parse(line) as Answer;
  }

  /** The sidecar's /server_info (admin port, loopback only: asked from inside the pod). */
  async serverInfo(pod: MeshPodName): Promise<{ identity?: string; cert_expires_at?: string }> {
    const r = await this.get(pod, 'http://127.0.0.1:15000/server_info', { asRoot: true });
    return JSON.parse(r.body) as { identity?: string; cert_expires_at?: string };
  }

  nodeExec(cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<CommandResult> {
    return runCommand('ip', ['netns', 'exec', this.rig.nodeNs, cmd, ...args], { env: { PATH: RIG_PATH, HOME: '/tmp' }, timeoutMs, allowFail: true, cwd: ROOT });
  }

  /** A sidecar's Prometheus text, scraped from the node over the bridge (15090 is never intercepted). */
  async scrape(pod: MeshPodName): Promise<string> {
    return (await this.nodeExec('curl', ['-s', '--max-time', '5', `http://${PODS[pod].ip}:15090/stats/prometheus`])).stdout;
  }

  async controlPlaneMetrics(): Promise<string> {
    return (await this.nodeExec('curl', ['-s', '--max-time', '5', `http://127.0.0.1:${CP_METRICS}/metrics`])).stdout;
  }

  accessLog(pod: MeshPodName): Array<Record<string, unknown>> {
    try {
      return readFileSync(this.accessLogPath(pod), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return [];
    }
  }

  async down(keep: boolean): Promise<void> {
    try {
      await this.rig.down();
    } finally {
      if (!keep) rmSync(this.work, { recursive: true, force: true });
    }
  }
}
