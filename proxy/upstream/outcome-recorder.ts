// What the pipeline reports about each attempt so outlier detection can judge
// the endpoint that made it.
import type { ClusterRuntime } from './cluster.js';
import type { Endpoint } from './endpoint.js';

/** An attempt's outcome as outlier detection sees it: an HTTP status or a local-origin failure. */
export type AttemptOutcome = number | 'connect' | 'reset' | 'timeout';

export interface OutcomeRecorder {
  record(cluster: ClusterRuntime, endpoint: Endpoint, outcome: AttemptOutcome): void;
}

