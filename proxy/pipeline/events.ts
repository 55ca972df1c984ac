// What the resilience layers report, and what records endpoint outcomes.
// The composition root wires these to metrics and to outlier detection; the
// pipeline only calls them.
import type { MirrorEvents } from '../layers/mirror/index.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';

export interface ResilienceEvents {
  retry(service: string, reason: string): void;
  retryBudgetExhausted(service: string): void;
  overflow(service: string, limit: string): void;
  fault(route: string, kind: 'delay' | 'abort'): void;
  readonly mirror: MirrorEvents;
}

/** An attempt's outcome as outlier detection sees it: an HTTP status or a local-origin failure. */
export type AttemptOutcome = number | 'connect' | 'reset' | 'timeout';

export interface OutcomeRecorder {
  record(cluster: ClusterRuntime, endpoint: Endpoint, outcome: AttemptOutcome): void;
}

export const NO_EVENTS: ResilienceEvents = {
  retry: () => undefined,
  retryBudgetExhausted: () => undefined,
  overflow: () => undefined,
  fault: () => undefined,
  mirror: () => undefined,
};
