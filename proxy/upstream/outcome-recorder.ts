// What the pipeline reports about each attempt so outlier detection can judge
// the endpoint that made it.
import type { ClusterRuntime } from './cluster.js';
import type { Endpoint } from './endpoint.js';

/** An attempt's outcome as outlier detection sees it: an HTTP status or a local-origin failure. */
export type AttemptOutcome = number | 'connect' | 'reset' | 'timeout';

export interface OutcomeRecorder {
  record(cluster: ClusterRuntime, endpoint: Endpoint, outcome: AttemptOutcome): void;
}

/**
 * Who holds per-endpoint state outside upstream/ (outlier breakers, metric
 * series) and must dispose of it when the endpoint or its cluster leaves the
 * config or DNS. A re-added endpoint is a new object: its state starts fresh.
 */
export interface EndpointRetirement {
  endpointRemoved(cluster: ClusterRuntime, endpoint: Endpoint): void;
  clusterRemoved(cluster: ClusterRuntime): void;
}

export const NO_RETIREMENT: EndpointRetirement = { endpointRemoved: () => undefined, clusterRemoved: () => undefined };
