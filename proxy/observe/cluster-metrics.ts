// --concurrency N: each worker counts its own requests; the primary answers
// scrapes with the sum over all workers (prom-client's AggregatorRegistry
// over node:cluster IPC), so a counter is the whole sidecar's and never
// jumps back the way it did when whichever worker accepted the scrape
// answered alone. Each metric says how it aggregates (`aggregator`: counters
// and histograms sum; see meshlet-metrics.ts for the gauges).
import { AggregatorRegistry, type Registry } from 'prom-client';

/** What the metrics listener needs from a registry (a local one or the cluster's sum). */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** In a worker: answer the primary's metrics requests with this registry. */
export function shareMetricsWithPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // The constructor installs the worker's IPC listener (once per process).
  new AggregatorRegistry();
}

/** In the primary: every scrape asks each live worker and sums (prom-client times out after 5 s). */
export function clusterMetricsSource(): MetricsSource {
  const agg = new AggregatorRegistry();
  return {
    metrics: () => agg.clusterMetrics(),
    contentType: agg.contentType,
  };
}
