// The whole mesh in the pod rig: five bookinfo pods, each with its app (uid
// 1000) and a REAL Meshlet sidecar (uid 1337) fed by a real control plane in
// the node namespace, plus an OTLP sink and (optionally) Prometheus there.
// Tests talk to it only the way a user would: apps' plain HTTP calls inside
// pods, HTTP to pod IPs from the node, files in the control plane's dir.
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PodRig, runCommand, type CommandResult, type PodProcess } from './rig/index.js';
import { RIG_PATH } from './rig/run-command.js';
import { ROOT, until } from '../support/meshlet-process.js';
import { loadgenCommand, parseLoadResult, type LoadResult, type LoadSpec } from './mesh/loadgen.js';

export const APP_UID = 1000;
export const PROXY_UID = 1337;
export const NODE_IP = '10.244.0.1';
export const CP_GRPC = `${NODE_IP}:15010`;
export const OTLP_PORT = 4318;

export interface MeshPod {
  readonly name: string;
  readonly app: string;
  readonly version: string;
  readonly ip: string;
}

// Fixed IPs: examples/rig-config's ServiceEntries list them.
export const MESH_PODS: readonly MeshPod[] = [
  { name: 'productpage-v1', app: 'productpage', version: 'v1', ip: '10.244.0.10' },
  { name: 'details-v1', app: 'details', version: 'v1', ip: '10.244.0.11' },
  { name: 'reviews-v1', app: 'reviews', version: 'v1', ip: '10.244.0.12' },
  { name: 'reviews-v2', app: 'reviews', version: 'v2', ip: '10.244.0.13' },
  { name: 'ratings-v1', app: 'ratings', version: 'v1', ip: '10.244.0.14' },
];

// A GET from wherever it runs: prints the status line, then the body.
const FETCH_JS = `fetch(process.argv[1], { headers: JSON.parse(process.argv[3] || '{}'), signal: AbortSignal.timeout(Number(process.argv[2])) }).then(async (r) => console.log(r.status + '\\n' + (await r.text())), (e) => { console.log('0\\n' + (e.cause?.code || e.name)); });`;

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

function answer(r: CommandResult): HttpAnswer {
  const nl = r.stdout.indexOf('\n');
  return { status: Number(r.stdout.slice(0, nl)) || 0, body: r.stdout.slice(nl + 1) };
}

export class MeshRig {
  readonly rig = new PodRig({ family: 'mesh' });
  /** World-writable scratch dir: access logs (written by uid 1337), configs, Prometheus data. */
  readonly work = mkdtempSync(join(tmpdir(), 'meshlet-e2e-'));
  readonly configDir = join(this.work, 'config');
  readonly apps = new Map<string, PodProcess>();
  readonly sidecars = new Map<string, PodProcess>();
  controlPlane: PodProcess | undefined;
  sink: PodProcess | undefined;
  prometheus: PodProcess | undefined;
  readonly timing: Record<string, number> = {};

  pod(name: string): MeshPod {
    const p = MESH_PODS.find((x) => x.name === name);
    if (p === undefined) throw new Error(`no mesh pod ${name}`);
    return p;
  }

  accessLogPath(pod: string): string {
    return join(this.work, `access-${pod}.log`);
  }

  /** Namespaces, control plane, sink, apps, sidecars; resolves when every sidecar is /ready. */
  async up(): Promise<void> {
    const t0 = performance.now();
    chmodSync(this.work, 0o777);
    cpSync(join(ROOT, 'examples/rig-config'), this.configDir, { recursive: true });
    await this.rig.up(MESH_PODS.map((p) => ({ name: p.name, service: p.app, ip: p.ip })));
    this.timing['rig'] = performance.now() - t0;
    this.sink = this.rig.runInNode(process.execPath, ['--import', 'tsx', 'test/e2e/mesh/otlp-sink.ts'], { cwd: ROOT, env: { PORT: String(OTLP_PORT) } });
    await Promise.all([this.startControlPlane(), ...MESH_PODS.map((p) => this.startApp(p.name)), this.sink.waitForLine(/otlp sink listening/, 20_000)]);
    await Promise.all(MESH_PODS.map((p) => this.startSidecar(p.name)));
    this.timing['up'] = performance.now() - t0;
  }

  /** The control plane's CA (created by it on first start, reused on restart) and the bootstrap tokens. */
  readonly caDir = join(this.work, 'ca');
  /** A readable copy of its root for the sidecars (uid 1337) and the CLI. */
  readonly rootCert = join(this.work, 'root-cert.pem');
  readonly tokensFile = join(this.work, 'bootstrap-tokens.yaml');
  readonly adminTokenFile = join(this.work, 'admin.token');

  tokenFile(pod: string): string {
    return join(this.work, `${pod}.token`);
  }

  /** One token per pod (node id = pod name, service account = bookinfo-<app>) plus an admin one, written once. */
  provisionTokens(): void {
    if (existsSync(this.tokensFile)) return;
    const entries = MESH_PODS.map((p) => ({ token: randomBytes(24).toString('hex'), nodeId: p.name, namespace: 'default', serviceAccount: `bookinfo-${p.app}` }));
    entries.forEach((e) => writeFileSync(this.tokenFile(e.nodeId), e.token + '\n', { mode: 0o644 }));
    const admin = { token: randomBytes(24).toString('hex'), nodeId: 'operator', namespace: 'meshlet-system', serviceAccount: 'operator', admin: true };
    writeFileSync(this.adminTokenFile, admin.token + '\n');
    writeFileSync(this.tokensFile, stringify([...entries, admin]));
  }

  /** `meshlet status` as an operator runs it from the node (admin credential, TLS verified with the root). */
  statusCommand(): string[] {
    return ['bin/meshlet.js', 'status', '--control-plane', CP_GRPC, '--ca-cert', this.rootCert, '--token-file', this.adminTokenFile];
  }

  async startControlPlane(extra: readonly string[] = []): Promise<void> {
    this.provisionTokens();
    const args = [
      'bin/meshlet.js', 'control-plane', '--config-dir', this.configDir, '--grpc-port', '15010', '--metrics-port', '15014',
      '--ca-dir', this.caDir, '--bootstrap-tokens', this.tokensFile, ...extra,
    ];
    this.controlPlane = this.rig.runInNode(process.execPath, args, { cwd: ROOT, logFile: join(this.work, 'control-plane.log') });
    await this.controlPlane.waitForLine(/control-plane: listening on/, 45_000);
    copyFileSync(join(this.caDir, 'root-cert.pem'), this.rootCert);
    chmodSync(this.rootCert, 0o644);
  }

  async startApp(pod: string): Promise<void> {
    const p = this.pod(pod);
    const proc = this.rig.spawn(pod, {
      uid: APP_UID,
      cmd: process.execPath,
      args: ['dist/examples/bookinfo/service.js', p.app],
      env: { PORT: '9080', VERSION: p.version },
      cwd: ROOT,
    });
    this.apps.set(pod, proc);
    await proc.waitForLine(/listening on/, 20_000);
  }

  /** Starts the sidecar and waits until its admin /ready says it has config. */
  async startSidecar(pod: string): Promise<void> {
    const p = this.pod(pod);
    const args = [
      'bin/meshlet.js', 'proxy',
      '--control-plane', CP_GRPC,
      '--ca-cert', this.rootCert,
      '--token-file', this.tokenFile(p.name),
      '--service-account', `bookinfo-${p.app}`,
      '--workload', p.name,
      '--namespace', 'default',
      '--labels', `app=${p.app},version=${p.version}`,
      '--app-port', '9080',
      '--trace-endpoint', `http://${NODE_IP}:${OTLP_PORT}/v1/traces`,
      // Only requests that arrive with a decision are traced: no stray traces.
      '--trace-sample-rate', '0',
      '--access-log', this.accessLogPath(pod),
    ];
    const proc = this.rig.spawn(pod, { uid: PROXY_UID, cmd: process.execPath, args, cwd: ROOT, logFile: join(this.work, `sidecar-${pod}.log`) });
    this.sidecars.set(pod, proc);
    await proc.waitForLine(/meshlet proxy listening/, 45_000);
    await until(async () => (await this.podGet(pod, 'http://127.0.0.1:15000/ready')).status === 200, 30_000, 100);
  }

  /** A GET run inside `pod` as root (captured like an app, except to loopback). */
  async podGet(pod: string, url: string, timeoutMs = 5000): Promise<HttpAnswer> {
    return answer(await this.rig.exec(pod, process.execPath, ['-e', FETCH_JS, url, String(timeoutMs)], { timeoutMs: timeoutMs + 5000 }));
  }

  /** The config version a sidecar has applied (admin /config_dump, loopback only: asked from inside the pod). */
  async configVersion(pod: string): Promise<string> {
    const r = await this.podGet(pod, 'http://127.0.0.1:15000/config_dump');
    return String((JSON.parse(r.body) as { version: string | null }).version);
  }

  /** Runs a command in the node namespace (Prometheus, OTLP sink, control plane live there). */
  nodeExec(cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<CommandResult> {
    return runCommand('ip', ['netns', 'exec', this.rig.nodeNs, cmd, ...args], { env: { PATH: RIG_PATH, HOME: '/tmp' }, timeoutMs, allowFail: true, cwd: ROOT });
  }

  /** A GET from the node namespace: reaches pod IPs over the bridge, like a node-level client. */
  async nodeGet(url: string, timeoutMs = 5000, headers: Readonly<Record<string, string>> = {}): Promise<HttpAnswer> {
    return answer(await this.nodeExec(process.execPath, ['-e', FETCH_JS, url, String(timeoutMs), JSON.stringify(headers)], timeoutMs + 5000));
  }

  /** Runs a load to completion from `pod`, as the app's uid (so it is intercepted). */
  async load(pod: string, spec: LoadSpec): Promise<LoadResult> {
    const { args, env } = loadgenCommand(spec);
    const r = await this.rig.exec(pod, process.execPath, args, { uid: APP_UID, env, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`loadgen exited ${r.code}: ${r.stderr}`);
    return parseLoadResult(r.stdout);
  }

  /** Starts an open-ended load from `pod`; `stop()` ends it after its in-flight requests. */
  startLoad(pod: string, spec: Omit<LoadSpec, 'count'>): { proc: PodProcess; stop: () => Promise<LoadResult>; progressed: (n: number) => Promise<string> } {
    const { args, env } = loadgenCommand({ ...spec, count: Infinity });
    const proc = this.rig.spawn(pod, { uid: APP_UID, cmd: process.execPath, args, env, cwd: ROOT });
    return {
      proc,
      progressed: (n) => proc.waitForLine(new RegExp(`LOADGEN progress ${n}$`), 60_000),
      stop: async () => {
        await proc.kill(30_000);
        return parseLoadResult(proc.output());
      },
    };
  }

  /** The sidecar's Prometheus text, scraped over the bridge from the node like Prometheus does. */
  async scrape(pod: string): Promise<string> {
    const r = await this.nodeGet(`http://${this.pod(pod).ip}:15090/stats/prometheus`);
    if (r.status !== 200) throw new Error(`scrape ${pod}: ${r.status} ${r.body}`);
    return r.body;
  }

  /** Parsed access-log lines of a pod's sidecar (the log is written asynchronously: poll). */
  accessLog(pod: string): Array<Record<string, unknown>> {
    let text = '';
    try {
      text = readFileSync(this.accessLogPath(pod), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Replaces one file in the control plane's config dir (atomically: write + rename). */
  writeConfig(file: string, yaml: string): void {
    const tmp = join(this.work, `.${file}.tmp`);
    mkdirSync(this.configDir, { recursive: true });
    // Same filesystem, so rename is atomic: the watcher never sees half a file.
    writeFileAtomic(tmp, join(this.configDir, file), yaml);
  }

  /** Kills every process (the rig does), removes namespaces and the scratch dir. */
  async down(keepWork = false): Promise<void> {
    try {
      await this.rig.down();
    } finally {
      if (!keepWork) rmSync(this.work, { recursive: true, force: true });
    }
  }
}

function writeFileAtomic(tmp: string, dest: string, text: string): void {
  writeFileSync(tmp, text);
  renameSync(tmp, dest);
}
