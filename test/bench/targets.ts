// Everything the benchmark can put between the load generator and the
// upstream. A target either starts (pinned to the proxy CPU) or says why it
// is skipped; nothing here measures.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, nodeScript, spawnChild, type Child } from './child-process.js';
import { haproxyConf, MESH_HOST, nginxConf, writeMeshletConfig } from './meshlet-config.js';
import { SIDECAR_V8_FLAGS } from '../../proxy/heap-flags.js';

export interface BenchContext {
  readonly upstreamPort: number;
  readonly upstreamPid: number;
  readonly mirrorPort: number;
  readonly otlpPort: number;
  readonly tmpDir: string;
}

export interface RunningTarget {
  readonly port: number;
  /** Process to charge CPU/RSS to; null for direct. */
  readonly pid: number | null;
  readonly hostHeader: string;
  /** Meshlet's admin port (GET /memory), when the target is a meshlet. */
  readonly adminPort?: number;
  /** null while the process runs, else why it is gone (exit code and last output). */
  death(): string | null;
  stop(): Promise<void>;
}

function deathOf(c: Child): () => string | null {
  return () => (c.proc.exitCode === null && c.proc.signalCode === null ? null : `exited (${c.proc.exitCode ?? c.proc.signalCode}): ${c.output().slice(-600)}`);
}

export interface TargetSpec {
  readonly name: string;
  readonly label: string;
  /** null when runnable, else the reason it is skipped. */
  skipReason(): string | null;
  start(ctx: BenchContext): Promise<RunningTarget>;
}

const PROXY_CPU = 1;
const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository root: the nearest ancestor holding package.json (works from test/bench and dist/test/bench). */
export function repoRoot(): string {
  let d = here;
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(d, 'package.json'))) return d;
    d = path.dirname(d);
  }
  return process.cwd();
}

// dist/cli/main.js only exports main(); bin/meshlet.js is the launcher that runs it.
const MESHLET_CLI = path.join(repoRoot(), 'dist', 'cli', 'main.js');
const MESHLET_BIN = path.join(repoRoot(), 'bin', 'meshlet.js');

function which(bin: string): string | null {
  try { return execFileSync('which', [bin]).toString().trim() || null; } catch { return null; }
}

function peer(name: string, label: string, script: string, args: readonly string[]): TargetSpec {
  return {
    name, label,
    skipReason: () => null,
    async start(ctx) {
      const c = await spawnChild({ cmd: [...nodeScript(script), '--upstream', `http://127.0.0.1:${ctx.upstreamPort}`, ...args], cpu: PROXY_CPU });
      return { port: c.port, pid: c.pid, hostHeader: '127.0.0.1', death: deathOf(c), stop: c.stop };
    },
  };
}

export interface MeshletFlags {
  readonly allFeatures: boolean;
  readonly accessLog: 'off' | 'file';
  readonly metrics: boolean;
  readonly traceRate: number;
  /** Worker processes (--concurrency); >1 runs unpinned, over both CPUs. */
  readonly workers?: number;
  /** Node binary to run the sidecar with (the Node 24 comparison); default this process's node. */
  readonly nodePath?: string;
  /** Extra V8/Node flags after the sidecar's own (memory experiments). */
  readonly nodeFlags?: readonly string[];
  /**
   * Fed by a control plane as in a pod (bootstrap token, the control plane's
   * CA, a workload certificate), instead of reading the YAML itself with
   * --config: a pod's sidecar never loads the YAML parser, the Istio schemas
   * or zod.
   */
  readonly controlPlane?: boolean;
}

interface SidecarSource {
  readonly args: readonly string[];
  close(): Promise<void>;
}

/** A control plane in this process serving `configFile`, and the flags that connect a sidecar to it. */
async function controlPlaneSource(dir: string, configFile: string): Promise<SidecarSource> {
  const { startControlPlane } = await import('../../control-plane/index.js');
  const configDir = path.join(dir, 'config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(path.join(configDir, 'bench.yaml'), readFileSync(configFile));
  const token = 'bench-sidecar-token-0123456789abcdef';
  writeFileSync(path.join(dir, 'tokens.yaml'), `- { token: ${token}, nodeId: bench, namespace: default, serviceAccount: bench }\n`);
  writeFileSync(path.join(dir, 'bench.token'), token + '\n');
  const cp = await startControlPlane({ configDir, grpcHost: '127.0.0.1', grpcPort: 0, metricsPort: -1, security: { caDir: path.join(dir, 'ca'), bootstrapTokensFile: path.join(dir, 'tokens.yaml') }, log: () => {} });
  return {
    args: ['--control-plane', `127.0.0.1:${cp.port}`, '--ca-cert', path.join(dir, 'ca', 'root-cert.pem'), '--token-file', path.join(dir, 'bench.token'), '--service-account', 'bench', '--workload', 'bench'],
    close: () => cp.close(),
  };
}

export function meshletTarget(name: string, label: string, f: MeshletFlags): TargetSpec {
  return {
    name, label,
    skipReason: () => existsSync(MESHLET_CLI) ? null : `${path.relative(repoRoot(), MESHLET_CLI)} not built yet (run npm run build once the proxy exists)`,
    async start(ctx) {
      const cfg = writeMeshletConfig(ctx.tmpDir, name, f.allFeatures
        ? { upstreamPort: ctx.upstreamPort, mirrorPort: ctx.mirrorPort, mirrorPercent: 10 }
        : { upstreamPort: ctx.upstreamPort });
      const [outbound, admin, metrics] = [await freePort(), await freePort(), await freePort()];
      const source: SidecarSource = f.controlPlane === true
        ? await controlPlaneSource(path.join(ctx.tmpDir, `${name}-cp`), cfg)
        : { args: ['--config', cfg], close: async () => {} };
      // Run as deployed: with the sidecar heap flags (the bin's shebang and k8s/ apply them too).
      const cmd = [f.nodePath ?? process.execPath, ...SIDECAR_V8_FLAGS, ...(f.nodeFlags ?? []), MESHLET_BIN, 'proxy', ...source.args,
        '--listen-address', '127.0.0.1', '--outbound-port', String(outbound), '--admin-port', String(admin),
        '--metrics-port', f.metrics ? String(metrics) : 'off',
        '--access-log', f.accessLog === 'file' ? path.join(ctx.tmpDir, `${name}-access.log`) : 'off',
        '--trace-sample-rate', String(f.traceRate), '--concurrency', String(f.workers ?? 1)];
      const env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ctx.otlpPort}` };
      // Scaling runs are unpinned: workers need both CPUs (shared with the load generator and upstream).
      let c: Child | undefined;
      try {
        c = await spawnChild({ cmd, cpu: f.workers === undefined ? PROXY_CPU : undefined, env, port: outbound, readyTimeoutMs: 60_000 });
        await waitRoutable(outbound, MESH_HOST, c.output);
      } catch (err) {
        await c?.stop();
        await source.close();
        throw err;
      }
      const child = c;
      return { port: outbound, pid: child.pid, hostHeader: MESH_HOST, adminPort: admin, death: deathOf(child), stop: async () => { await child.stop(); await source.close(); } };
    },
  };
}

/** The listener may accept before config is loaded; wait for a 200 through it. */
async function waitRoutable(port: number, host: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last = '';
  while (Date.now() < deadline) {
    const status = await new Promise<number>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/small', headers: { host } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
      req.on('error', () => resolve(0));
    });
    if (status === 200) return;
    last = String(status);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`meshlet never answered 200 (last status ${last}): ${output()}`);
}

function nginxTarget(): TargetSpec {
  const bin = which('nginx');
  return {
    name: 'nginx', label: 'nginx proxy_pass, keepalive 64, 1 worker',
    skipReason: () => bin ? null : 'nginx not installed',
    async start(ctx) {
      const port = await freePort();
      const dir = path.join(ctx.tmpDir, 'nginx');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(dir, port, ctx.upstreamPort));
      const c = await spawnChild({ cmd: [bin ?? 'nginx', '-p', dir, '-c', path.join(dir, 'nginx.conf')], cpu: PROXY_CPU, port });
      return { port, pid: c.pid, hostHeader: '127.0.0.1', death: deathOf(c), stop: c.stop };
    },
  };
}

function haproxyTarget(): TargetSpec {
  const bin = which('haproxy');
  return {
    name: 'haproxy', label: 'haproxy nbthread 1, http-reuse always',
    skipReason: () => bin ? null : 'haproxy not installed',
    async start(ctx) {
      const port = await freePort();
      const file = path.join(ctx.tmpDir, 'haproxy.cfg');
      writeFileSync(file, haproxyConf(port, ctx.upstreamPort));
      const c = await spawnChild({ cmd: [bin ?? 'haproxy', '-f', file, '-db'], cpu: PROXY_CPU, port });
      return { port, pid: c.pid, hostHeader: '127.0.0.1', death: deathOf(c), stop: c.stop };
    },
  };
}

export const DIRECT: TargetSpec = {
  name: 'direct', label: 'direct (no proxy)',
  skipReason: () => null,
  start: async (ctx) => ({ port: ctx.upstreamPort, pid: null, hostHeader: '127.0.0.1', death: () => null, stop: async () => {} }),
};

/** Main comparison set, in run order. */
export function mainTargets(): TargetSpec[] {
  return [
    DIRECT,
    // Meshlet's defaults: metrics on, access log on (to a file here, as stdout would be in a pod), tracing on but unsampled.
    meshletTarget('meshlet-default', 'meshlet defaults: metrics on, access log on (file), tracing configured, 0% sampled', { allFeatures: false, accessLog: 'file', metrics: true, traceRate: 0 }),
    meshletTarget('meshlet-all-features', 'meshlet: VS retries+timeout+mirror 10%, DR outlier+pool, access log file, tracing 1%', { allFeatures: true, accessLog: 'file', metrics: true, traceRate: 0.01 }),
    peer('http-proxy', 'bare http-proxy 1.18 + keep-alive agent (64)', 'peers/bare-http-proxy', []),
    peer('undici-stream', 'bare undici Pool.stream() (naive)', 'peers/bare-undici', ['--variant', 'stream', '--connections', '64']),
    peer('undici-dispatch', 'bare undici dispatch() handler, write/drain backpressure', 'peers/bare-undici', ['--variant', 'dispatch', '--connections', '64']),
    nginxTarget(),
    haproxyTarget(),
  ];
}

/** "Cost of features": the same meshlet with observability switched off / on / fully sampled. */
export function featureTargets(): TargetSpec[] {
  return [
    meshletTarget('meshlet-bare', 'meshlet: metrics off, access log off, tracing 0', { allFeatures: false, accessLog: 'off', metrics: false, traceRate: 0 }),
    meshletTarget('meshlet-observed', 'meshlet: metrics on, access log file, tracing 0', { allFeatures: false, accessLog: 'file', metrics: true, traceRate: 0 }),
    meshletTarget('meshlet-traced', 'meshlet: metrics on, access log file, tracing 100%', { allFeatures: false, accessLog: 'file', metrics: true, traceRate: 1 }),
    meshletTarget('meshlet-1-worker', 'meshlet defaults, 1 worker, unpinned', { allFeatures: false, accessLog: 'off', metrics: true, traceRate: 0, workers: 1 }),
    meshletTarget('meshlet-2-workers', 'meshlet defaults, --concurrency 2, unpinned', { allFeatures: false, accessLog: 'off', metrics: true, traceRate: 0, workers: 2 }),
  ];
}
