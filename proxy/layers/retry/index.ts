// Retry policy, compiled once per route. Envoy's semantics for retryOn,
// backoff (full jitter, base 25 ms, cap 250 ms) and Retry-After; Meshlet's
// safe default when a route says nothing (see RetryPolicy.isDefault).
import type { RetryPolicy } from '../../config/model/index.js';

export { ReplayBody, type ReplayOwner } from './replay-body.js';

const BASE_MS = 25;
const MAX_MS = 250;
/** Longest Retry-After we are willing to wait (the route deadline still caps it). */
const MAX_RETRY_AFTER_MS = 10_000;

const R_5XX = 1;
const R_GATEWAY = 2;
const R_CONNECT = 4;
const R_REFUSED = 8;
const R_RESET = 16;
const R_4XX = 32;
const R_CODES = 64;
// gRPC statuses (Envoy's x-envoy-retry-grpc-on), as bits 1 << code.
const GRPC_RETRY_ON: Record<string, number> = { cancelled: 1, 'deadline-exceeded': 4, internal: 13, 'resource-exhausted': 8, unavailable: 14 };

/** What went wrong with one attempt, as the retry policy classifies it. */
export type AttemptFailure = 'connect' | 'reset' | 'timeout' | 'status';

const IDEMPOTENT: Record<string, true> = { GET: true, HEAD: true, OPTIONS: true, PUT: true, DELETE: true, TRACE: true };

export class RetryLayer {
  readonly maxRetries: number;
  readonly perTryTimeoutMs: number;
  readonly isDefault: boolean;
  readonly #on: number;
  readonly #codes: ReadonlySet<number>;
  readonly #idempotentOnly: boolean;
  /** Bit `1 << code` set for each retriable gRPC status. */
  readonly grpcOn: number;

  constructor(p: RetryPolicy) {
    this.maxRetries = p.attempts;
    this.perTryTimeoutMs = p.perTryTimeoutMs ?? 0;
    this.isDefault = p.isDefault;
    let on = 0;
    let grpc = 0;
    for (const r of p.retryOn) {
      const code = GRPC_RETRY_ON[r];
      if (code !== undefined) grpc |= 1 << code;
      if (r === '5xx') on |= R_5XX;
      else if (r === 'gateway-error') on |= R_GATEWAY;
      else if (r === 'connect-failure') on |= R_CONNECT;
      else if (r === 'refused-stream') on |= R_REFUSED;
      else if (r === 'reset') on |= R_RESET;
      else if (r === 'retriable-4xx') on |= R_4XX;
      else if (r === 'retriable-status-codes') on |= R_CODES;
    }
    this.#on = on;
    this.grpcOn = grpc;
    this.#codes = new Set(p.retriableStatusCodes);
    this.#idempotentOnly = p.idempotentOnly5xx;
  }

  /** Should a response with this status be retried? */
  retriableStatus(status: number, method: string): boolean {
    if (this.#idempotentOnly && IDEMPOTENT[method] !== true) return false;
    const on = this.#on;
    if (status >= 500 && on & R_5XX) return true;
    if ((status === 502 || status === 503 || status === 504) && on & R_GATEWAY) return true;
    if (status === 409 && on & R_4XX) return true;
    return (on & R_CODES) !== 0 && this.#codes.has(status);
  }

  /**
   * Should a gRPC answer with this grpc-status be retried? As in Envoy, the
   * gRPC conditions apply to every call (gRPC methods are all POST), and they
   * are read from trailers too, not only from trailers-only responses.
   */
  retriableGrpc(code: number): boolean {
    return code > 0 && (this.grpcOn & (1 << code)) !== 0;
  }

  /**
   * Should a failed attempt (no response) be retried? A connect failure
   * provably never reached the app; a reset or timeout may have.
   */
  retriableFailure(kind: AttemptFailure, method: string): boolean {
    const on = this.#on;
    if (kind === 'connect') return (on & (R_CONNECT | R_5XX | R_RESET)) !== 0;
    // The request may have reached the app: non-idempotent requests are only
    // retried when the route asked for it explicitly.
    if (this.#idempotentOnly && IDEMPOTENT[method] !== true) return false;
    if (kind === 'reset') return (on & (R_RESET | R_5XX)) !== 0;
    // A per-try timeout counts as a 504 (gateway error), as in Envoy.
    return (on & (R_RESET | R_5XX | R_GATEWAY)) !== 0 || ((on & R_CODES) !== 0 && this.#codes.has(504));
  }

  /**
   * Delay before retry number `n` (1-based): fully jittered exponential
   * U[0, min(cap, base·(2^n − 1))), or the server's Retry-After when given.
   */
  backoffMs(n: number, retryAfter: string | undefined, rng: () => number): number {
    if (retryAfter !== undefined) {
      const secs = Number(retryAfter);
      const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(retryAfter) - Date.now();
      if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, MAX_RETRY_AFTER_MS);
    }
    const ceiling = Math.min(MAX_MS, BASE_MS * (2 ** n - 1));
    return Math.floor(rng() * ceiling);
  }
}

export function compileRetry(p: RetryPolicy | undefined): RetryLayer | null {
  if (p === undefined || p.attempts <= 0) return null;
  return new RetryLayer(p);
}
