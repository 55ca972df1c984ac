// What outlier detection costs with 1,000 endpoints: heap bytes per endpoint
// breaker (opossum CircuitBreaker + our counters), ns per record() on the
// paths every response takes, the cost of one ejection, and the idle CPU of
// the shared once-a-second bucket rotation.
// Usage: npx tsx test/bench/outlier-cost.ts [endpoints=1000]
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ClusterModel, OutlierDetectionPolicy } from '../../proxy/config/model/index.js';
import { ClusterRuntime } from '../../proxy/upstream/cluster.js';
import { OutlierDetector } from '../../proxy/upstream/outlier.js';

const N = Number(process.argv[2] ?? 1000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

function cluster(od: OutlierDetectionPolicy): ClusterRuntime {
  const endpoints = Array.from({ length: N }, (_, i) => ({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 9080, labels: {}, weight: 1 }));
  const model: ClusterModel = { name: 'outbound|9080||bench', host: 'bench', port: 9080, discovery: 'static', endpoints, policy: { lb: { kind: 'round_robin' }, outlierDetection: od } };
  return new ClusterRuntime(model);
}

/** ns per call of `op(i)` over `iters` calls, after a warm-up. */
function nsPer(op: (i: number) => void, iters: number): number {
  for (let i = 0; i < Math.min(iters, 100_000); i++) op(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) op(i);
  return Number(process.hrtime.bigint() - t0) / iters;
}

async function main(): Promise<void> {
  // Thresholds never reached by the measured loops: no ejection unless asked for.
  const od: OutlierDetectionPolicy = { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 100, minHealthPercent: 0 };
  const c = cluster(od);
  const eps = c.endpoints;
  let ejections = 0;
  const det = new OutlierDetector(() => ejections++);

  const before = heap();
  for (const ep of eps) det.record(c, ep, 200); // creates one breaker per endpoint
  const after = heap();
  const bytesPerBreaker = (after - before) / N;

  const okNs = nsPer((i) => det.record(c, eps[i % N]!, 200), 2_000_000);
  // 5xx then success on each endpoint: counts up and resets, never reaches the threshold.
  const mixedNs = nsPer((i) => det.record(c, eps[(i >> 1) % N]!, i & 1 ? 200 : 503), 2_000_000);

  // Idle cost: the shared rotation timer fires once a second for all breakers.
  const cpu0 = process.cpuUsage();
  const wall0 = Date.now();
  await new Promise((r) => setTimeout(r, 3100));
  const cpu = process.cpuUsage(cpu0);
  const idleCpuPct = ((cpu.user + cpu.system) / 1000 / (Date.now() - wall0)) * 100;

  // One ejection (5 consecutive 503s on a fresh endpoint; the last one ejects).
  // Measured once, without warm-up: each endpoint can be ejected only once here.
  const t0 = process.hrtime.bigint();
  for (const ep of eps) for (let k = 0; k < 5; k++) det.record(c, ep, 503);
  const ejectNs = Number(process.hrtime.bigint() - t0) / N;
  det.close();

  const out = {
    node: process.version,
    endpoints: N,
    bytesPerBreaker: Math.round(bytesPerBreaker),
    heapForAllBreakersMiB: +((after - before) / 1048576).toFixed(2),
    recordSuccessNs: +okNs.toFixed(1),
    recordMixed5xxNs: +mixedNs.toFixed(1),
    fiveFailuresAndEjectionNs: +ejectNs.toFixed(0),
    ejections,
    idleCpuPercent: +idleCpuPct.toFixed(3),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  // Ejections leave opossum reset timers pending; they are not needed any more.
  process.exit(0);
}

void main();
