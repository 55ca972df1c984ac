// Issue 17's "Scale" targets judged from the micro-benchmark of the same run
// (route-and-pick.ts): route lookup flat from 10 to 10,000 routes per host,
// and a weighted least-request pick O(1)-ish at 1,000 endpoints. The
// --concurrency metric aggregation is a behaviour, proven by
// test/integration/concurrency-workers.test.ts, not a figure.
import type { TargetCheck } from '../issue17-targets.js';
import type { MicroBenchResult } from './route-and-pick.js';

function isMicro(m: unknown): m is MicroBenchResult {
  return typeof m === 'object' && m !== null && Array.isArray((m as { route?: unknown }).route) && Array.isArray((m as { pick?: unknown }).pick);
}

export function scaleChecks(micro: unknown): TargetCheck[] {
  if (!isMicro(micro)) return [];
  const out: TargetCheck[] = [];
  const judge = (what: string, measured: number | undefined, bound: string, ok: (x: number) => boolean): void => {
    const m = measured ?? NaN;
    out.push({ area: 'scale', what, measured: m, bound, pass: Number.isFinite(m) ? ok(m) : null });
  };
  const size = (n: number): MicroBenchResult['route'][number] | undefined => micro.route.find((r) => r.size === n);
  const r10 = size(10);
  const r10k = size(10_000);
  // The baseline: 80 µs at 10,000 routes by a first-match scan.
  judge('route lookup, 10,000 routes per host (ns)', r10k?.routeMatchNs, '≤ 1,000 (scan: 80,000)', (x) => x <= 1000);
  judge('route lookup, 10,000 routes ÷ 10 routes', r10k && r10 ? r10k.routeMatchNs / r10.routeMatchNs : undefined, '≤ 5 (scan: ~900)', (x) => x <= 5);
  const lr = micro.pick.find((p) => p.policy === 'least_request (weighted)' && p.endpoints === 1000);
  judge('weighted least-request pick, 1,000 endpoints (ns)', lr?.pickNs, '≤ 500 (O(N) pass: 3,500)', (x) => x <= 500);
  return out;
}
