// Pre-bound counter and histogram series for the per-request Istio metrics.
// prom-client's `.labels()` children still hash every label value on each
// inc()/observe() (≈300 ns each with 20 labels, four per request); these
// series are plain objects found once per label set, so recording is a few
// additions. They register in a prom-client Registry as custom metrics (a
// `get()` returning prom-client's MetricObject shape), so the exposition
// format, content type and the rest of the registry stay prom-client's.
import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface MetricObject {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

export class CounterSeries {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

export class HistogramSeries {
  /** Non-cumulative counts per bucket; cumulated at scrape time. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    const b = this.bounds;
    // Buckets are few (8–19) and most values land low: a linear scan beats bisection here.
    for (let i = 0; i < b.length; i++) {
      if (v <= (b[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        break;
      }
    }
    this.sum += v;
    this.count++;
  }
}

abstract class BoundMetric<S extends { labels: Labels }> {
  readonly aggregator = 'sum' as const;
  protected readonly series = new Map<string, S>();
  /** How many pre-bound holders use each series; a series nobody holds is removed from the exposition. */
  readonly #refs = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    // The registry only calls get() and reads name/help/type; see prom-client lib/registry.js.
    registry.registerMetric(this as never);
  }
  /** One series per distinct label set. Call on a cache miss only; `key` must identify `values`. Pair with release(key). */
  bind(key: string, values: readonly string[]): S {
    this.#refs.set(key, (this.#refs.get(key) ?? 0) + 1);
    let s = this.series.get(key);
    if (s === undefined) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i] as string] = values[i] ?? '';
      s = this.make(Object.freeze(labels));
      this.series.set(key, s);
    }
    return s;
  }
  /** A holder is gone (its endpoint or cluster left the config): the last one removes the series, like prom-client's remove(). */
  release(key: string): void {
    const n = (this.#refs.get(key) ?? 0) - 1;
    if (n > 0) {
      this.#refs.set(key, n);
      return;
    }
    this.#refs.delete(key);
    this.series.delete(key);
  }
  /** Series currently exposed. */
  get size(): number {
    return this.series.size;
  }
  protected abstract make(labels: Labels): S;
  /** Drops one series (its label set leaves the exposition). */
  unbind(key: string): void {
    this.series.delete(key);
  }
  reset(): void {
    this.series.clear();
    this.#refs.clear();
  }
}

export class BoundCounter extends BoundMetric<CounterSeries> {
  readonly type = 'counter' as const;
  protected make(labels: Labels): CounterSeries {
    return new CounterSeries(labels);
  }
  get(): MetricObject {
    const values: MetricValue[] = [];
    for (const s of this.series.values()) values.push({ value: s.value, labels: { ...s.labels } });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export class BoundHistogram extends BoundMetric<HistogramSeries> {
  readonly type = 'histogram' as const;
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
  }
  protected make(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.buckets);
  }
  get(): MetricObject {
    const values: MetricValue[] = [];
    const bucketName = this.name + '_bucket';
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += s.counts[i] as number;
        values.push({ metricName: bucketName, labels: { ...s.labels, le: this.buckets[i] as number }, value: acc });
      }
      values.push({ metricName: bucketName, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: this.name + '_sum', labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: this.name + '_count', labels: { ...s.labels }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
