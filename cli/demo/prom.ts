// Just enough of the Prometheus text format for the demo view: samples with
// labels, summed into the few series the view shows, and quantiles from
// histogram bucket deltas the way PromQL's histogram_quantile computes them.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseProm(text: string, keep: (name: string) => boolean): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.charCodeAt(0) === 35 /* # */) continue;
    const m = LINE.exec(line);
    if (!m || !keep(m[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = Number(m[3]);
    if (Number.isFinite(value) || m[3] === '+Inf') out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Cumulative histogram buckets: upper bound → count. */
export type Buckets = Map<number, number>;

/** Counters and histograms of one scrape (all sidecars), keyed by the view's own keys. */
export interface Totals {
  readonly counters: Map<string, number>;
  readonly histograms: Map<string, Buckets>;
}

export function emptyTotals(): Totals {
  return { counters: new Map(), histograms: new Map() };
}

export function addCounter(t: Totals, key: string, v: number): void {
  t.counters.set(key, (t.counters.get(key) ?? 0) + v);
}

export function addBucket(t: Totals, key: string, le: number, v: number): void {
  let b = t.histograms.get(key);
  if (b === undefined) t.histograms.set(key, (b = new Map()));
  b.set(le, (b.get(le) ?? 0) + v);
}

/** now − before for a counter; a restarted process (counter went down) counts from 0. */
export function delta(now: Totals, before: Totals | undefined, key: string): number {
  const a = now.counters.get(key) ?? 0;
  const b = before?.counters.get(key) ?? 0;
  return a >= b ? a - b : a;
}

export function bucketDelta(now: Totals, before: Totals | undefined, key: string): Buckets {
  const a = now.histograms.get(key) ?? new Map<number, number>();
  const b = before?.histograms.get(key);
  const out: Buckets = new Map();
  for (const [le, v] of a) out.set(le, Math.max(0, v - (b?.get(le) ?? 0)));
  return out;
}

/** histogram_quantile: linear interpolation inside the bucket holding rank q·N. NaN when empty. */
export function quantile(q: number, buckets: Buckets): number {
  const sorted = [...buckets.entries()].sort((x, y) => x[0] - y[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      // Past the last finite bound the best answer is that bound (as Prometheus does).
      if (le === Infinity) return prevLe;
      const inBucket = count - prevCount;
      return inBucket <= 0 ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
