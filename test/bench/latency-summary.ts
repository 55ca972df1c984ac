// Percentiles over a sorted copy of the samples: exact (no HDR bucketing
// error), and cheap enough at the sample counts a 10 s open-loop run makes.
export interface LatencySummary {
  readonly count: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
  readonly meanUs: number;
}

/** Nearest-rank percentile summary of latencies in microseconds. */
export function summarize(samplesUs: Float64Array, count: number): LatencySummary {
  if (count === 0) return { count: 0, p50Us: NaN, p90Us: NaN, p99Us: NaN, p999Us: NaN, maxUs: NaN, meanUs: NaN };
  const sorted = samplesUs.slice(0, count).sort();
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i] ?? 0;
  return {
    count,
    p50Us: rank(sorted, 0.5),
    p90Us: rank(sorted, 0.9),
    p99Us: rank(sorted, 0.99),
    p999Us: rank(sorted, 0.999),
    maxUs: sorted[count - 1] ?? NaN,
    meanUs: sum / count,
  };
}

function rank(sorted: Float64Array, q: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}

/** Median of a list (NaN for an empty one). */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** (max − min) / median; the run-to-run spread peers-bench.md reports. */
export function spread(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x));
  if (s.length < 2) return 0;
  const m = median(s);
  return m === 0 ? 0 : (Math.max(...s) - Math.min(...s)) / m;
}
