// gRPC through the sidecar vs direct, in one run (issue 13): unary calls from
// one grpc-js channel (closed loop, fixed calls in flight), interleaved
// rounds; the proxy's CPU per call from /proc; its RSS with 1,000 concurrent
// server streams held open through it. Load generator and gRPC server share
// this process (CPU 0 when pinned); the sidecar runs alone on CPU 1.
// Standalone: node dist/test/bench/grpc.js [--quick]; `npm run bench` calls runGrpcBench.
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { SIDECAR_V8_FLAGS } from '../../proxy/heap-flags.js';
import { freePort, spawnChild, type Child } from './child-process.js';
import { repoRoot } from './targets.js';

const PROXY_CPU = 1;
/** Meshlet's own bars for this bench (no Istio equivalent is published): printed ✔/✘, never asserted. */
export const GRPC_TARGETS = { minThroughputRatio: 0.5, maxCpuUsPerCall: 200, maxRssPerStreamKiB: 100 } as const;

interface EchoReply { text: string; server: string }
type EchoStub = grpc.Client & {
  Unary(r: object, cb: (e: grpc.ServiceError | null, v: EchoReply) => void): void;
  ServerStream(r: object): grpc.ClientReadableStream<EchoReply>;
};

function echoCtor(): grpc.ServiceClientConstructor {
  const def = loadSync(path.join(repoRoot(), 'test/fixtures/echo.proto'), { keepCase: true, defaults: true });
  return (grpc.loadPackageDefinition(def) as unknown as { meshlet: { test: { Echo: grpc.ServiceClientConstructor } } }).meshlet.test.Echo;
}

async function startServer(Echo: grpc.ServiceClientConstructor): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(Echo.service, {
    Unary: (call: grpc.ServerUnaryCall<{ text: string }, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => cb(null, { text: call.request.text, server: 'bench' }),
    // One message, then held open until the caller cancels (the 1,000-stream memory probe).
    ServerStream: (call: grpc.ServerWritableStream<{ text: string }, EchoReply>) => void call.write({ text: 'open', server: 'bench' }),
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { port, server };
}

/** Closed loop: `inFlight` calls outstanding on one channel for `ms`; calls/s and latency percentiles. */
async function unaryLoad(client: EchoStub, inFlight: number, ms: number): Promise<{ calls: number; perSec: number; p50: number; p99: number; errors: number }> {
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + ms;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await new Promise<void>((res) => client.Unary({ text: 'x' }, (e) => {
        if (e) errors++;
        else lat.push(performance.now() - t0);
        res();
      }));
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const took = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { calls: lat.length, perSec: (lat.length * 1000) / took, p50: q(0.5), p99: q(0.99), errors };
}

function cpuMs(pid: number): number {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
}
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function holdStreams(client: EchoStub, n: number, timeoutMs: number): Promise<{ open: number; calls: grpc.ClientReadableStream<EchoReply>[] }> {
  const calls: grpc.ClientReadableStream<EchoReply>[] = [];
  let open = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    for (let i = 0; i < n; i++) {
      const c = client.ServerStream({ text: 's' });
      c.on('error', () => undefined);
      c.once('data', () => {
        if (++open === n) {
          clearTimeout(timer);
          resolve();
        }
      });
      calls.push(c);
    }
  });
  return { open, calls };
}

export interface GrpcBenchResult {
  loadAvg: number[];
  direct: { perSec: number; p50: number; p99: number };
  sidecar: { perSec: number; p50: number; p99: number };
  throughputRatio: number;
  addedP50Ms: number;
  proxyCpuUsPerCall: number;
  rssIdleMiB: number;
  rssWith1000StreamsMiB: number;
  streamsOpen: number;
  checks: string[];
}

export async function runGrpcBench(opts: { quick?: boolean } = {}): Promise<GrpcBenchResult> {
  const quick = opts.quick ?? false;
  const rounds = quick ? 1 : 3;
  const ms = quick ? 1500 : 4000;
  const inFlight = 32;
  const Echo = echoCtor();
  const { port, server } = await startServer(Echo);
  const dir = mkdtempSync(path.join(tmpdir(), 'meshlet-grpc-bench-'));
  let proxy: Child | undefined;
  const clients: grpc.Client[] = [];
  try {
    writeFileSync(path.join(dir, 'echo.yaml'), `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo }
spec:
  hosts: [echo]
  resolution: STATIC
  ports: [{ number: 9090, name: grpc, protocol: GRPC }]
  endpoints: [{ address: 127.0.0.1, ports: { grpc: ${port} } }]
`);
    const [outbound, admin] = [await freePort(), await freePort()];
    const cmd = [process.execPath, ...SIDECAR_V8_FLAGS, path.join(repoRoot(), 'bin', 'meshlet.js'), 'proxy', '--config', dir, '--listen-address', '127.0.0.1',
      '--outbound-port', String(outbound), '--admin-port', String(admin), '--metrics-port', 'off', '--access-log', 'off'];
    proxy = await spawnChild({ cmd, cpu: PROXY_CPU, port: outbound, readyTimeoutMs: 60_000 });
    const channel = (target: string): EchoStub => {
      const c = new Echo(target, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'echo:9090', 'grpc.use_local_subchannel_pool': 1 }) as unknown as EchoStub;
      clients.push(c);
      return c;
    };
    const direct = channel(`127.0.0.1:${port}`);
    const viaSidecar = channel(`127.0.0.1:${outbound}`);
    await unaryLoad(direct, 4, 300); // warm-up both paths (JIT, connections)
    await unaryLoad(viaSidecar, 4, 600);
    const d: Array<Awaited<ReturnType<typeof unaryLoad>>> = [];
    const s: Array<Awaited<ReturnType<typeof unaryLoad>>> = [];
    let proxyCpu = 0;
    let proxyCalls = 0;
    for (let r = 0; r < rounds; r++) {
      d.push(await unaryLoad(direct, inFlight, ms));
      const c0 = cpuMs(proxy.pid);
      const run = await unaryLoad(viaSidecar, inFlight, ms);
      proxyCpu += cpuMs(proxy.pid) - c0;
      proxyCalls += run.calls;
      s.push(run);
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const pick = (runs: typeof d): { perSec: number; p50: number; p99: number } => ({ perSec: med(runs.map((x) => x.perSec)), p50: med(runs.map((x) => x.p50)), p99: med(runs.map((x) => x.p99)) });
    const dm = pick(d);
    const sm = pick(s);
    const rssIdle = rssMiB(proxy.pid);
    const held = await holdStreams(channel(`127.0.0.1:${outbound}`), 1000, 60_000);
    const rssStreams = rssMiB(proxy.pid);
    for (const c of held.calls) c.cancel();
    const cpuPerCall = proxyCalls > 0 ? (proxyCpu * 1000) / proxyCalls : NaN;
    const ratio = sm.perSec / dm.perSec;
    const perStreamKiB = ((rssStreams - rssIdle) * 1024) / Math.max(1, held.open);
    const mark = (ok: boolean): string => (ok ? '✔' : '✘');
    const checks = [
      `${mark(ratio >= GRPC_TARGETS.minThroughputRatio)} unary calls/s via sidecar ÷ direct = ${ratio.toFixed(2)} (bar ≥ ${GRPC_TARGETS.minThroughputRatio})`,
      `${mark(cpuPerCall <= GRPC_TARGETS.maxCpuUsPerCall)} proxy CPU per unary call = ${cpuPerCall.toFixed(0)} µs (bar ≤ ${GRPC_TARGETS.maxCpuUsPerCall} µs)`,
      `${mark(held.open === 1000 && perStreamKiB <= GRPC_TARGETS.maxRssPerStreamKiB)} RSS with ${held.open}/1000 streams open = ${rssStreams.toFixed(1)} MiB (idle ${rssIdle.toFixed(1)} MiB, ${perStreamKiB.toFixed(1)} KiB per stream; bar ≤ ${GRPC_TARGETS.maxRssPerStreamKiB} KiB)`,
    ];
    const result: GrpcBenchResult = {
      loadAvg: loadavg(), direct: dm, sidecar: sm, throughputRatio: ratio, addedP50Ms: sm.p50 - dm.p50, proxyCpuUsPerCall: cpuPerCall,
      rssIdleMiB: rssIdle, rssWith1000StreamsMiB: rssStreams, streamsOpen: held.open, checks,
    };
    console.log(`\ngRPC unary (${rounds} interleaved round(s) × ${ms / 1000}s, ${inFlight} calls in flight on one channel; load ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
    console.log(`  direct   ${dm.perSec.toFixed(0)} calls/s  p50 ${dm.p50.toFixed(2)} ms  p99 ${dm.p99.toFixed(2)} ms`);
    console.log(`  sidecar  ${sm.perSec.toFixed(0)} calls/s  p50 ${sm.p50.toFixed(2)} ms  p99 ${sm.p99.toFixed(2)} ms  (+${(sm.p50 - dm.p50).toFixed(2)} ms p50)`);
    for (const c of checks) console.log(`  ${c}`);
    return result;
  } finally {
    for (const c of clients) c.close();
    await proxy?.stop();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && /grpc\.(js|ts)$/.test(process.argv[1])) {
  runGrpcBench({ quick: process.argv.includes('--quick') }).then(() => process.exit(0), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
