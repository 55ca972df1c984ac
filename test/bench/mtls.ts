// What automatic mTLS costs between two sidecars (issue 15), in one run:
// a control plane that is the mesh CA (bootstrap tokens), a caller sidecar
// and a callee sidecar (real `bin/meshlet.js` processes with certificates),
// and one fast upstream behind the callee. Three paths, interleaved per round:
//   direct    client → upstream
//   plaintext client → caller sidecar → callee sidecar → upstream (DestinationRule tls DISABLE)
//   mtls      the same, with automatic mTLS between the sidecars
// For each: closed-loop throughput (autocannon, 32 connections) and the
// latency of one connection sending serially (p50/p99; added = minus direct).
// TLS handshakes are counted from the sidecars' own counters
// (meshlet_tls_handshakes_total{direction,resumed}) and reported per 10,000
// requests, also for a churn variant whose DestinationRule closes each
// upstream connection after 100 requests (handshakes then resume sessions).
//
// `npm run bench:mtls [-- --quick | --duration S | --rounds N]`. Prints the
// host's load average: on a loaded host only the ratios mean anything.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from '../../control-plane/index.js';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { freePort } from './child-process.js';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop.js';
import { median } from './latency-summary.js';
import { repoRoot } from './targets.js';
import { startUpstream } from './upstream-server.js';

interface MeshletProc {
  readonly proc: ChildProcess;
  readonly outbound: number;
  readonly admin: number;
  readonly metrics: number;
  stop(): Promise<void>;
}

/** `meshlet proxy` from bin/meshlet.js (the built CLI) on free ports; the ports come from its 'listening' line. */
async function startMeshlet(args: string[], timeoutMs: number): Promise<MeshletProc> {
  const proc = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'meshlet.js'), 'proxy', '--outbound-port', '0', '--admin-port', '0', '--metrics-port', '0', '--listen-address', '127.0.0.1', ...args], {
    env: { ...process.env, MESHLET_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`meshlet did not start in ${timeoutMs} ms:\n${err}`)), timeoutMs);
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /meshlet proxy listening[^\n]*\n/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[0]);
      }
      if (err.length > 65_536) err = err.slice(-16_384);
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`meshlet exited with ${code}:\n${err}`));
    });
  });
  const port = (name: string): number => Number(new RegExp(`${name}=[^ ]*:(\\d+)`).exec(line)?.[1] ?? new RegExp(`${name}=(\\d+)`).exec(line)?.[1] ?? 0);
  return {
    proc,
    outbound: port('outbound'),
    admin: port('admin'),
    metrics: port('metrics'),
    stop: () =>
      new Promise<void>((r) => {
        if (proc.exitCode !== null) return r();
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        proc.once('exit', () => {
          clearTimeout(t);
          r();
        });
        proc.kill('SIGTERM');
      }),
  };
}

/** One GET /small with this Host (fetch() would not send our Host header). */
function statusOf(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/small', headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

interface SerialResult {
  readonly completed: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** One keep-alive connection, one request at a time, for `sec` seconds: per-request latency in µs resolution. */
async function serialLatency(port: number, host: string, sec: number): Promise<SerialResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  let errors = 0;
  const end = performance.now() + sec * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    const status = await new Promise<number>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/small', headers: { host }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
    });
    if (status === 200) samples.push(performance.now() - t0);
    else {
      errors++;
      console.log(`  serial request failed: ${status === 0 ? 'socket error' : `status ${status}`}`);
    }
  }
  agent.destroy();
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { completed: samples.length + errors, errors, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** Polls `fn` until it returns true, at most `timeoutMs`. */
async function until(fn: () => Promise<true | undefined>, timeoutMs: number, stepMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if ((await fn().catch(() => undefined)) === true) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

const TOKENS = [
  { token: 'bench-caller-token-0123456789abcdef', nodeId: 'caller', namespace: 'default', serviceAccount: 'caller' },
  { token: 'bench-callee-token-0123456789abcdef', nodeId: 'callee', namespace: 'default', serviceAccount: 'callee' },
];

type PathName = 'direct' | 'plaintext' | 'mtls' | 'mtls-churn';
const HOST: Record<Exclude<PathName, 'direct'>, string> = { plaintext: 'plain.bench:80', mtls: 'secure.bench:80', 'mtls-churn': 'churn.bench:80' };

const config = (calleeInbound: number): string => {
  const entry = (name: string): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${name}.bench]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${calleeInbound} }, labels: { app: callee, security.meshlet.io/tlsMode: istio } }]
---
`;
  return `${entry('secure')}${entry('plain')}${entry('churn')}apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: plain }
spec:
  host: plain.bench
  trafficPolicy: { tls: { mode: DISABLE } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: churn }
spec:
  host: churn.bench
  trafficPolicy: { connectionPool: { http: { maxRequestsPerConnection: 100 } } }
`;
};

interface Handshakes {
  full: number;
  resumed: number;
}
async function handshakes(p: MeshletProc, direction: 'inbound' | 'outbound'): Promise<Handshakes> {
  const text = await (await fetch(`http://127.0.0.1:${p.metrics}/stats/prometheus`)).text();
  const out = { full: 0, resumed: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith('meshlet_tls_handshakes_total{') || !line.includes(`direction="${direction}"`)) continue;
    out[line.includes('resumed="true"') ? 'resumed' : 'full'] += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

interface Counted {
  requests: number;
  errors: number;
  caller: Handshakes;
  callee: Handshakes;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  caller: Handshakes;
  callee: Handshakes;
}

export async function runMtlsBench(argv: readonly string[]): Promise<string> {
  const quick = argv.includes('--quick');
  const arg = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const durationSec = arg('duration', quick ? 2 : 5);
  const rounds = arg('rounds', quick ? 1 : 3);
  const handshakeRequests = arg('requests', quick ? 2_000 : 10_000);
  const loadBefore = loadavg();
  const dir = mkdtempSync(path.join(tmpdir(), 'meshlet-bench-mtls-'));
  const procs: MeshletProc[] = [];
  const upstream = await startUpstream();
  let cp: Awaited<ReturnType<typeof startControlPlane>> | undefined;
  try {
    const configDir = path.join(dir, 'config');
    mkdirSync(configDir);
    writeFileSync(path.join(dir, 'tokens.yaml'), TOKENS.map((t) => `- { token: ${t.token}, nodeId: ${t.nodeId}, namespace: ${t.namespace}, serviceAccount: ${t.serviceAccount} }`).join('\n') + '\n');
    for (const t of TOKENS) writeFileSync(path.join(dir, `${t.nodeId}.token`), t.token + '\n');
    const calleeInbound = await freePort();
    writeFileSync(path.join(configDir, 'bench.yaml'), config(calleeInbound));
    cp = await startControlPlane({ configDir, grpcHost: '127.0.0.1', grpcPort: 0, metricsPort: -1, security: { caDir: path.join(dir, 'ca'), bootstrapTokensFile: path.join(dir, 'tokens.yaml') }, log: () => {} });
    const common = ['--control-plane', `127.0.0.1:${cp.port}`, '--ca-cert', path.join(dir, 'ca', 'root-cert.pem'), '--access-log', 'off'];
    const callee = await startMeshlet([...common, '--token-file', path.join(dir, 'callee.token'), '--service-account', 'callee', '--workload', 'callee', '--labels', 'app=callee', '--app-port', String(upstream.port), '--inbound-port', String(calleeInbound)], 60_000);
    procs.push(callee);
    const caller = await startMeshlet([...common, '--token-file', path.join(dir, 'caller.token'), '--service-account', 'caller', '--workload', 'caller'], 60_000);
    procs.push(caller);
    for (const p of procs) await until(async () => ((await fetch(`http://127.0.0.1:${p.admin}/ready`)).status === 200 ? true : undefined), 60_000, 200);
    // The config is there once every path answers 200.
    for (const host of Object.values(HOST)) await until(async () => ((await statusOf(caller.outbound, host)) === 200 ? true : undefined), 60_000, 200);

    const samples = new Map<PathName, Sample[]>();
    const order: PathName[] = ['direct', 'plaintext', 'mtls', 'mtls-churn'];
    for (let round = 0; round < rounds; round++) {
      for (const name of order) {
        const port = name === 'direct' ? upstream.port : caller.outbound;
        const hostHeader = name === 'direct' ? '127.0.0.1' : HOST[name];
        const before = [await handshakes(caller, 'outbound'), await handshakes(callee, 'inbound')] as const;
        // Warm-up (connections open, pools filled), then throughput, then serial latency.
        const warm = await runClosedLoop({ port, path: '/small', hostHeader, connections: 32, durationSec: Math.min(1, durationSec) });
        const h1 = await handshakes(caller, 'outbound');
        const tput: ClosedLoopResult = await runClosedLoop({ port, path: '/small', hostHeader, connections: 32, durationSec });
        const h2 = await handshakes(caller, 'outbound');
        const lat = await serialLatency(port, hostHeader, Math.max(1, durationSec / 2));
        if (process.env['BENCH_MTLS_DEBUG']) console.log(`  handshakes: warm-up ${h1.full + h1.resumed - before[0].full - before[0].resumed} (${warm.completed} req), throughput ${h2.full + h2.resumed - h1.full - h1.resumed} (${tput.completed} req)`);
        const after = [await handshakes(caller, 'outbound'), await handshakes(callee, 'inbound')] as const;
        const list = samples.get(name) ?? [];
        list.push({
          rps: tput.reqPerSec,
          p50: lat.p50Ms,
          p99: lat.p99Ms,
          requests: warm.completed + tput.completed + lat.completed,
          errors: tput.errors + tput.non2xx + lat.errors,
          caller: { full: after[0].full - before[0].full, resumed: after[0].resumed - before[0].resumed },
          callee: { full: after[1].full - before[1].full, resumed: after[1].resumed - before[1].resumed },
        });
        samples.set(name, list);
        console.log(`round ${round + 1}/${rounds} ${name}: ${Math.round(tput.reqPerSec)} req/s, serial p50 ${lat.p50Ms.toFixed(2)} ms p99 ${lat.p99Ms.toFixed(2)} ms` + (tput.errors + tput.non2xx + lat.errors > 0 ? `; failures: ${tput.errors} socket errors/timeouts, ${tput.non2xx} non-2xx (closed loop), ${lat.errors} (serial)` : ''));
      }
    }
    // Handshakes per 10,000 requests: a fixed number of requests over 8 client
    // connections (the sidecar pools its own upstream connections).
    const counted = new Map<PathName, Counted>();
    for (const name of ['mtls', 'mtls-churn'] as const) {
      const before = [await handshakes(caller, 'outbound'), await handshakes(callee, 'inbound')] as const;
      const r = await runClosedLoop({ port: caller.outbound, path: '/small', hostHeader: HOST[name], connections: 8, durationSec: 600, amount: handshakeRequests });
      const after = [await handshakes(caller, 'outbound'), await handshakes(callee, 'inbound')] as const;
      counted.set(name, {
        requests: r.completed,
        errors: r.errors + r.non2xx,
        caller: { full: after[0].full - before[0].full, resumed: after[0].resumed - before[0].resumed },
        callee: { full: after[1].full - before[1].full, resumed: after[1].resumed - before[1].resumed },
      });
      console.log(`handshake count ${name}: ${r.completed} requests`);
    }
    return report(samples, counted, { durationSec, rounds, loadBefore, loadAfter: loadavg() });
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await cp?.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(samples: ReadonlyMap<PathName, Sample[]>, counted: ReadonlyMap<PathName, Counted>, o: { durationSec: number; rounds: number; loadBefore: number[]; loadAfter: number[] }): string {
  const m = (name: PathName, f: (s: Sample) => number): number => median((samples.get(name) ?? []).map(f));
  const sum = (name: PathName, f: (s: Sample) => number): number => (samples.get(name) ?? []).reduce((a, s) => a + f(s), 0);
  const per10k = (name: PathName, side: 'caller' | 'callee'): string => {
    const c = counted.get(name);
    if (c === undefined || c.requests === 0) return 'n/a';
    const { full, resumed } = c[side];
    const k = (n: number): string => ((n * 10_000) / c.requests).toFixed(1);
    return `${k(full + resumed)} (${k(full)} full, ${k(resumed)} resumed; ${full + resumed} over ${c.requests} requests, ${c.errors} errors)`;
  };
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  const lines = [
    `mTLS vs plaintext between two sidecars: ${o.rounds} interleaved round(s) of ${o.durationSec} s closed loop (32 connections) + ${Math.max(1, o.durationSec / 2)} s serial latency (1 keep-alive connection), small responses`,
    `load average before: ${la(o.loadBefore)}, after: ${la(o.loadAfter)} (on a loaded host read the ratios, not the absolute figures)`,
    '',
    '| path | req/s (median) | serial p50 ms | serial p99 ms | errors |',
    '|---|---|---|---|---|',
  ];
  for (const name of ['direct', 'plaintext', 'mtls', 'mtls-churn'] as const) {
    lines.push(`| ${name} | ${Math.round(m(name, (s) => s.rps))} | ${m(name, (s) => s.p50).toFixed(2)} | ${m(name, (s) => s.p99).toFixed(2)} | ${sum(name, (s) => s.errors)} |`);
  }
  const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : 'n/a');
  lines.push(
    '',
    `throughput mtls / plaintext: ${ratio(m('mtls', (s) => s.rps), m('plaintext', (s) => s.rps))}`,
    `added serial p50 over direct: plaintext ${(m('plaintext', (s) => s.p50) - m('direct', (s) => s.p50)).toFixed(2)} ms, mtls ${(m('mtls', (s) => s.p50) - m('direct', (s) => s.p50)).toFixed(2)} ms (mtls / plaintext p50: ${ratio(m('mtls', (s) => s.p50), m('plaintext', (s) => s.p50))})`,
    `TLS handshakes per 10,000 requests (8 client connections), mtls: caller ${per10k('mtls', 'caller')}; callee ${per10k('mtls', 'callee')}`,
    `TLS handshakes per 10,000 requests, mtls-churn (maxRequestsPerConnection 100): caller ${per10k('mtls-churn', 'caller')}; callee ${per10k('mtls-churn', 'callee')}`,
  );
  return lines.join('\n');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMtlsBench(process.argv.slice(2)).then(
    (text) => {
      console.log(`\n${text}`);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
