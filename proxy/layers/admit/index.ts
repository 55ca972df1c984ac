// Circuit breaking by concurrency (DestinationRule connectionPool): a request
// over a limit fails at once with 503 UO, never queues without bound.
import type { ClusterRuntime } from '../../upstream/cluster.js';

/** Returns the name of the limit the request would break, or undefined when admitted. */
export function admitRequest(c: ClusterRuntime): string | undefined {
  const cp = c.policy.connectionPool;
  if (cp === undefined) return undefined;
  if (cp.maxRequests !== undefined && c.active >= cp.maxRequests) return 'max_requests';
  if (cp.maxConnections !== undefined && cp.maxPendingRequests !== undefined) {
    // HTTP/1.1 without pipelining: one request per connection, the rest wait.
    const pending = c.active - cp.maxConnections * c.endpoints.length;
    if (pending >= cp.maxPendingRequests) return 'max_pending_requests';
  }
  return undefined;
}

/** Meshlet's budget when a DestinationRule sets none: Envoy's retry_budget defaults. */
const DEFAULT_BUDGET = { percent: 20, minRetryConcurrency: 3 } as const;

/**
 * Retry admission: the retry budget (DestinationRule `retryBudget`, else
 * 20% of active requests, at least 3 concurrent, as Envoy's retry_budget
 * defaults) and connectionPool.http.maxRetries when set.
 * `holding` is true when the asking request already counts in
 * `activeRetries` (its second and later retries): its own slot must not
 * block it, as in Envoy, which releases a request's retry slot before
 * deciding on its next retry.
 */
export function admitRetry(c: ClusterRuntime, holding = false): boolean {
  const b = c.policy.retryBudget ?? DEFAULT_BUDGET;
  const limit = Math.max(b.minRetryConcurrency, Math.floor((c.active * b.percent) / 100));
  const max = c.policy.connectionPool?.maxRetries;
  const others = holding ? c.activeRetries - 1 : c.activeRetries;
  return others < (max !== undefined ? Math.min(max, limit) : limit);
}
