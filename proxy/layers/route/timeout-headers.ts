// Envoy's per-request timeout headers, which Istio's request-timeouts task
// documents: `x-envoy-upstream-rq-timeout-ms` replaces the route timeout and
// `x-envoy-upstream-rq-per-try-timeout-ms` the per-try timeout, when the app
// sets them on an outbound request. Envoy's router removes both before
// forwarding, and a sidecar's inbound side never trusts them (they would let
// any caller stretch or cut the timeouts of the pod it calls): there they are
// removed unread.

const H_TIMEOUT = 'x-envoy-upstream-rq-timeout-ms';
const H_PER_TRY = 'x-envoy-upstream-rq-per-try-timeout-ms';

/** Longest timer Node can hold; a larger value would fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

export interface RequestTimeouts {
  /** Whole-request deadline in ms, all attempts included; 0 = none. */
  timeoutMs: number;
  /** Per-attempt timeout in ms; 0 = none. */
  perTryTimeoutMs: number;
}

function readMs(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string' || !/^\d{1,10}$/.test(v)) return undefined; // malformed: ignored, as Envoy does
  return Math.min(Number(v), MAX_TIMER_MS);
}

/**
 * Removes both headers from the upstream request headers; on the outbound
 * side, a well-formed value (whole milliseconds, 0 = no timeout) overrides
 * the route's. Allocates nothing when neither header is present.
 */
export function takeTimeoutHeaders(upstream: Record<string, string | string[]>, outbound: boolean, into: RequestTimeouts): void {
  const t = upstream[H_TIMEOUT];
  const p = upstream[H_PER_TRY];
  if (t === undefined && p === undefined) return;
  delete upstream[H_TIMEOUT];
  delete upstream[H_PER_TRY];
  if (!outbound) return;
  const timeout = readMs(t);
  if (timeout !== undefined) into.timeoutMs = timeout;
  const perTry = readMs(p);
  if (perTry !== undefined) into.perTryTimeoutMs = perTry;
}
