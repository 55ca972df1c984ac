// What observability costs the proxy process, per request: CPU µs (utime +
// stime from /proc/<pid>/stat) of a real `meshlet proxy` serving a fixed
// number of sequential keep-alive requests, in set-ups that differ only in
// observability:
//   all-off         no metrics (--metrics-port off), no access log, spans not sampled, no exporter
//   metrics         + Istio/meshlet metrics recorded (the baseline of the rows below)
//   access-log      metrics + one JSON line per request to a file
//   unsampled+otlp  metrics + exporter configured, rate 0 (what every unsampled request pays)
//   sampled+otlp    metrics + exporter configured, rate 1 (a span per request, batched to a local OTLP receiver)
// Usage: npx tsx test/bench/observe-cost.ts [requests=5000] [rounds=3]
//    or: npm run build && node dist/test/bench/observe-cost.js
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import { cpuMicros, freePort, killAllChildren, pinSelf, PINNING, spawnChild } from './child-process.js';
import { startUpstream } from './upstream-server.js';

const REQUESTS = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 3);
const WARMUP = 1000;

/** The repository root (holds bin/meshlet.js), from src or dist alike. */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'bin', 'meshlet.js')) && existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  throw new Error('cannot find bin/meshlet.js above ' + fileURLToPath(import.meta.url));
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/small', headers: { host: 'bench' }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function sequential(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const s = await get(port);
    if (s !== 200) throw new Error(`request ${i} answered ${s}`);
  }
}

interface Setup {
  readonly name: string;
  readonly args: (ctx: { logFile: string; otlp: string }) => string[];
}

const SETUPS: readonly Setup[] = [
  { name: 'all-off', args: () => ['--access-log', 'off', '--trace-sample-rate', '0', '--metrics-port', 'off'] },
  { name: 'metrics', args: () => ['--access-log', 'off', '--trace-sample-rate', '0', '--metrics-port', '0'] },
  { name: 'access-log', args: ({ logFile }) => ['--access-log', logFile, '--trace-sample-rate', '0'] },
  { name: 'unsampled+otlp', args: ({ otlp }) => ['--access-log', 'off', '--trace-sample-rate', '0', '--trace-endpoint', otlp] },
  { name: 'sampled+otlp', args: ({ otlp }) => ['--access-log', 'off', '--trace-sample-rate', '1', '--trace-endpoint', otlp] },
];

async function measure(root: string, setup: Setup, config: string, ctx: { logFile: string; otlp: string }): Promise<number> {
  const port = await freePort();
  const child = await spawnChild({
    cmd: [process.execPath, join(root, 'bin', 'meshlet.js'), 'proxy', '--config', config, '--listen-address', '127.0.0.1', '--outbound-port', String(port),
      '--inbound-port', '0', '--admin-port', '0', ...setup.args(ctx)],
    cpu: 1,
    port,
  });
  try {
    // The listener may accept before the config is applied (404 until then).
    for (let i = 0; (await get(port)) !== 200; i++) {
      if (i > 100) throw new Error(`proxy never routed the bench host: ${child.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await sequential(port, WARMUP);
    const before = cpuMicros(child.pid);
    await sequential(port, REQUESTS);
    const after = cpuMicros(child.pid);
    return (after - before) / REQUESTS;
  } finally {
    agent.destroy();
    await child.stop();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const root = repoRoot();
  const pinned = pinSelf();
  const upstream = await startUpstream();
  const otlp = await startOtlpReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-observe-cost-'));
  const config = join(dir, 'bench.yaml');
  writeFileSync(config, `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: bench }
spec:
  hosts: [bench]
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${upstream.port} } }]
`);
  try {
    process.stdout.write(`observe-cost: ${REQUESTS} sequential keep-alive GETs per run, ${ROUNDS} rounds, median; pinned=${PINNING && pinned}\n`);
    // Rounds interleave the set-ups so slow drift of the host (other load, thermal) hits all alike.
    const runs = SETUPS.map(() => [] as number[]);
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < SETUPS.length; i++) {
        const setup = SETUPS[i]!;
        runs[i]!.push(await measure(root, setup, config, { logFile: join(dir, `access-${setup.name}-${r}.log`), otlp: otlp.url }));
      }
    }
    const results: Array<[string, number]> = [];
    for (let i = 0; i < SETUPS.length; i++) {
      const name = SETUPS[i]!.name;
      const m = median(runs[i]!);
      results.push([name, m]);
      process.stdout.write(`  ${name.padEnd(16)} ${m.toFixed(1).padStart(7)} µs CPU/request   (runs: ${runs[i]!.map((x) => x.toFixed(1)).join(', ')})\n`);
    }
    const off = results[0]![1];
    const base = results[1]![1];
    process.stdout.write(`\nmetrics over all-off: ${(base - off >= 0 ? '+' : '') + (base - off).toFixed(1)} µs\nper-request cost over metrics:\n`);
    for (const [name, v] of results.slice(2)) process.stdout.write(`  ${name.padEnd(16)} ${(v - base >= 0 ? '+' : '') + (v - base).toFixed(1)} µs\n`);
    process.stdout.write(`spans received by the OTLP receiver: ${otlp.spans.length}\n`);
    process.stdout.write('(CPU time resolution is one clock tick, usually 10 ms: ±' + ((10_000 / REQUESTS) | 0) + ' µs/request per run)\n');
  } finally {
    await Promise.all([upstream.close(), otlp.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    killAllChildren();
    process.stderr.write(`observe-cost: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
