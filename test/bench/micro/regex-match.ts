// Micro-benchmark: the cost of RE2 (re2js, linear time) against V8's
// backtracking RegExp for the regexes of a realistic route table, full-match
// semantics both ways. Plain script:
//   npx tsx test/bench/micro/regex-match.ts [budgetMs]
// Ratios matter, not absolute figures (the machine may be shared).
import { pathToFileURL } from 'node:url';
import { RE2JS } from 're2js';
import type { RouteModel } from '../../../proxy/config/model/index.js';
import { compileRoutes, type RouteRequest } from '../../../proxy/layers/route/index.js';

let sink = 0;

function measure(op: (i: number) => void, budgetMs: number): number {
  const batch = 1000;
  for (let i = 0; i < 10_000; i++) op(i);
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs * 1e6);
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) op(ops + i);
    ops += batch;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / ops;
}

/** Regexes as they appear in Istio VirtualServices (uri, header and authority matches). */
const PATTERNS = [
  '/api/v[0-9]+/users/[^/]+',
  '/api/v[0-9]+/orders/[0-9]+/items(/.*)?',
  '/static/.*\\.(css|js|png|svg)',
  '/(en|de|fr)/products/[a-z0-9-]+',
  '/graphql',
  '/healthz|/readyz|/livez',
  '/v1/tenants/[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}/.*',
  '/reviews/[0-9]+',
];
const INPUTS = ['/api/v2/users/alice', '/api/v1/orders/123/items/9', '/static/app.min.js', '/de/products/blue-shoe-42', '/v1/tenants/0123abcd-0000-1111-2222-333344445555/x', '/reviews/7', '/nothing/matches/here/at/all'];

export interface RegexBenchResult {
  readonly singleRe2Ns: number;
  readonly singleNativeNs: number;
  /** RouteTable.match over a table of PATTERNS.length regex routes (RE2, as the proxy runs). */
  readonly tableRe2Ns: number;
  /** The same table scan with V8 RegExp.test, for comparison. */
  readonly tableNativeNs: number;
  /** Same table, prefix matches instead of regexes: the baseline a regex route is compared to. */
  readonly tablePrefixNs: number;
}

export function runRegexBench(budgetMs = 300): RegexBenchResult {
  const re2 = PATTERNS.map((p) => RE2JS.compile(p));
  const native = PATTERNS.map((p) => new RegExp(`^(?:${p})$`));
  const singleRe2Ns = measure((i) => {
    sink += re2[0]!.testExact(INPUTS[i % INPUTS.length]!) ? 1 : 0;
  }, budgetMs);
  const singleNativeNs = measure((i) => {
    sink += native[0]!.test(INPUTS[i % INPUTS.length]!) ? 1 : 0;
  }, budgetMs);

  const routes: RouteModel[] = PATTERNS.map((p, k) => ({ name: `r${k}`, match: [{ uri: { kind: 'regex', value: p } }], action: { kind: 'direct', status: 200 } }));
  const table = compileRoutes(routes);
  const reqs: RouteRequest[] = INPUTS.map((path) => ({ method: 'GET', path, rawQuery: '', headers: {}, authority: 'svc:9080', port: 9080 }));
  const tableRe2Ns = measure((i) => {
    sink += table.match(reqs[i % reqs.length]!);
  }, budgetMs);
  const tableNativeNs = measure((i) => {
    const path = INPUTS[i % INPUTS.length]!;
    let hit = -1;
    for (let k = 0; k < native.length; k++) if (native[k]!.test(path)) {
      hit = k;
      break;
    }
    sink += hit;
  }, budgetMs);
  const prefixTable = compileRoutes(PATTERNS.map((_, k) => ({ name: `r${k}`, match: [{ uri: { kind: 'prefix', value: `/p${k}/` } }], action: { kind: 'direct', status: 200 } })));
  const tablePrefixNs = measure((i) => {
    sink += prefixTable.match(reqs[i % reqs.length]!);
  }, budgetMs);
  return { singleRe2Ns, singleNativeNs, tableRe2Ns, tableNativeNs, tablePrefixNs };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = runRegexBench(Number(process.argv[2] ?? 300));
  const f = (n: number): string => n.toFixed(0).padStart(6);
  process.stdout.write(
    `one regex, full match     RE2 ${f(r.singleRe2Ns)} ns   V8 RegExp ${f(r.singleNativeNs)} ns   ratio ${(r.singleRe2Ns / r.singleNativeNs).toFixed(1)}x\n` +
      `8-regex route table scan  RE2 ${f(r.tableRe2Ns)} ns   V8 RegExp ${f(r.tableNativeNs)} ns   ratio ${(r.tableRe2Ns / r.tableNativeNs).toFixed(1)}x\n` +
      `8-prefix route table scan     ${f(r.tablePrefixNs)} ns (baseline)\n` +
      `(sink ${sink % 2})\n`,
  );
}
