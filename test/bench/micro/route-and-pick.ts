// Micro-benchmark of the two per-request lookups this proxy does before any
// I/O: virtual host + route match, and the load-balancer pick. Plain script:
//   npx tsx test/bench/micro/route-and-pick.ts
// The main benchmark imports runMicroBench() and embeds its JSON.
import { pathToFileURL } from 'node:url';
import type { LoadBalancerPolicy, RouteModel } from '../../../proxy/config/model/index.js';
import { createPicker, hashString, type PickableEndpoint } from '../../../proxy/layers/balance/index.js';
import { compileRoutes, compileRoutesLinear, HostIndex, type RouteRequest } from '../../../proxy/layers/route/index.js';

export interface RouteBenchRow {
  readonly size: number;
  /** HostIndex.lookup over 1,000 distinct short-form Host headers (`svcK:9080`). */
  readonly hostLookupNs: number;
  /** RouteTable.match hitting the middle route of `size` prefix routes `/svcNNNNN/` (the indexed table the proxy uses). */
  readonly routeMatchNs: number;
  /** The same lookup by the reference linear first-match scan (the proxy before the route index). */
  readonly routeMatchLinearNs: number;
  /** Indexed lookup of a path no route matches (walks the trie, tests nothing). */
  readonly routeMissNs: number;
}

export interface PickBenchRow {
  readonly policy: string;
  readonly endpoints: number;
  readonly pickNs: number;
  /** Building the picker once (ring / table construction), milliseconds. */
  readonly buildMs: number;
}

export interface MicroBenchResult {
  readonly node: string;
  readonly route: readonly RouteBenchRow[];
  readonly pick: readonly PickBenchRow[];
}

/** Keeps results observable so the JIT cannot drop the measured work. */
let sink = 0;

/**
 * ns/op of `op(i)` after warm-up, measured in batches until `budgetMs` of
 * this process's CPU time has been spent. CPU time, not wall time: on a
 * shared machine the time this process waits for a core is not its cost.
 */
function measure(op: (i: number) => void, budgetMs: number): number {
  const batch = 2000;
  for (let i = 0; i < 20_000; i++) op(i);
  let ops = 0;
  const cpuUs = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const start = cpuUs();
  const deadline = start + budgetMs * 1000;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) op(ops + i);
    ops += batch;
    now = cpuUs();
  }
  return ((now - start) * 1000) / ops;
}

function benchRoutes(size: number, budgetMs: number): RouteBenchRow {
  const entries = Array.from({ length: size }, (_, k) => ({ domains: [`svc${k}.ns${k % 10}.svc.cluster.local`], value: k }));
  const hosts = new HostIndex(entries, 'ns0');
  const headers = Array.from({ length: 1000 }, (_, j) => {
    const k = (j * 7919) % size;
    return k % 10 === 0 ? `svc${k}:9080` : `svc${k}.ns${k % 10}:9080`;
  });
  const hostLookupNs = measure((i) => {
    sink += hosts.lookup(headers[i % headers.length]!) ?? 0;
  }, budgetMs);

  // Fixed-width names, so every size looks up a path of the same length and
  // what remains is the cost of the route count itself.
  const seg = (k: number): string => `/svc${String(k).padStart(5, '0')}/`;
  const routes: RouteModel[] = Array.from({ length: size }, (_, k) => ({
    name: `r${k}`,
    match: [{ uri: { kind: 'prefix', value: seg(k) }, headers: { 'x-k': { kind: 'exact', value: `${k}` } } }],
    action: { kind: 'direct', status: 200 },
  }));
  const table = compileRoutes(routes);
  const linear = compileRoutesLinear(routes);
  const mid = size >> 1;
  const req: RouteRequest = { method: 'GET', path: `${seg(mid)}items`, rawQuery: '', headers: { 'x-k': `${mid}` }, authority: 'svc:9080', port: 9080 };
  const miss: RouteRequest = { ...req, path: '/nothing/here' };
  if (table.match(req) !== mid || linear.match(req) !== mid || table.match(miss) !== -1) throw new Error('route bench: lookup answered the wrong route');
  const routeMatchNs = measure(() => {
    sink += table.match(req);
  }, budgetMs);
  const routeMatchLinearNs = measure(() => {
    sink += linear.match(req);
  }, budgetMs);
  const routeMissNs = measure(() => {
    sink += table.match(miss);
  }, budgetMs);
  return { size, hostLookupNs, routeMatchNs, routeMatchLinearNs, routeMissNs };
}

const POLICIES: readonly { readonly label: string; readonly policy: LoadBalancerPolicy; readonly weighted: boolean }[] = [
  { label: 'round_robin', policy: { kind: 'round_robin' }, weighted: false },
  { label: 'round_robin (weighted)', policy: { kind: 'round_robin' }, weighted: true },
  { label: 'least_request (P2C)', policy: { kind: 'least_request' }, weighted: false },
  { label: 'least_request (weighted)', policy: { kind: 'least_request' }, weighted: true },
  { label: 'random', policy: { kind: 'random' }, weighted: false },
  { label: 'ring_hash', policy: { kind: 'ring_hash', hashKey: { kind: 'source_ip' }, tableSize: 1024 }, weighted: false },
  { label: 'maglev', policy: { kind: 'maglev', hashKey: { kind: 'source_ip' }, tableSize: 65537 }, weighted: false },
];

interface BenchEndpoint extends PickableEndpoint {
  active: number;
}

function benchPick(label: string, policy: LoadBalancerPolicy, weighted: boolean, n: number, budgetMs: number): PickBenchRow {
  const eps: BenchEndpoint[] = Array.from({ length: n }, (_, i) => ({
    id: `10.${(i >> 8) & 255}.${i & 255}.1:8080`,
    weight: weighted ? 1 + (i % 3) : 1,
    active: i % 5,
    available: true,
  }));
  const t0 = process.hrtime.bigint();
  const picker = createPicker(policy, eps);
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const hashes = Array.from({ length: 1024 }, (_, i) => hashString(`10.9.${i >> 8}.${i & 255}`));
  const pickNs = measure((i) => {
    const e = picker.pick(hashes[i & 1023], undefined, false);
    if (e !== undefined) sink += e.active;
  }, budgetMs);
  return { policy: label, endpoints: n, pickNs, buildMs };
}

export function runMicroBench(opts: { budgetMs?: number } = {}): MicroBenchResult {
  const budgetMs = opts.budgetMs ?? 150;
  const route = [10, 1000, 10000].map((size) => benchRoutes(size, budgetMs));
  const pick: PickBenchRow[] = [];
  for (const p of POLICIES) for (const n of [3, 1000]) pick.push(benchPick(p.label, p.policy, p.weighted, n, budgetMs));
  if (sink === 0.5) console.log(sink); // never true; makes `sink` observable
  return { node: process.version, route, pick };
}

function printTables(r: MicroBenchResult): void {
  const f = (x: number): string => x.toFixed(x < 10 ? 1 : 0).padStart(9);
  console.log(`route lookup (${r.node})\n  size   host ns/op  route ns/op  linear ns/op  miss ns/op`);
  for (const row of r.route) console.log(`  ${String(row.size).padEnd(6)} ${f(row.hostLookupNs)}  ${f(row.routeMatchNs)}    ${f(row.routeMatchLinearNs)}   ${f(row.routeMissNs)}`);
  console.log('\npick\n  policy                     endpoints  ns/op     build ms');
  for (const row of r.pick) console.log(`  ${row.policy.padEnd(26)} ${String(row.endpoints).padStart(9)} ${f(row.pickNs)}  ${row.buildMs.toFixed(2).padStart(8)}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = runMicroBench();
  printTables(result);
  console.log(`\n${JSON.stringify(result)}`);
}
