// Fault injection (VirtualService http[].fault), compiled once per route.
// Configured percentages use a deterministic accumulator (like a smooth
// weighted pick) so 10% over 1000 requests is exactly 100 faults; header
// faults (Envoy's x-envoy-fault-* names) only where the route enables them.
import type { IncomingHttpHeaders } from 'node:http';
import { GRPC_STATUS_NAMES, type FaultPolicy } from '../../config/model/index.js';
import { grpcToHttpStatus } from '../../errors/grpc-status.js';

/**
 * Longest delay an `x-envoy-fault-delay-request` header can ask for when the
 * route has no timeout: 5 minutes, Envoy's default stream idle timeout (a
 * longer delay would be cut by it anyway). With a route timeout, that caps it.
 */
export const MAX_HEADER_DELAY_MS = 300_000;

const H_DELAY = 'x-envoy-fault-delay-request';
const H_DELAY_PCT = 'x-envoy-fault-delay-request-percentage';
const H_ABORT = 'x-envoy-fault-abort-request';
const H_ABORT_PCT = 'x-envoy-fault-abort-request-percentage';

/** Deterministic "fire p% of the time": exact over any window of 100/p calls. */
class Accumulator {
  #acc = 0;
  constructor(readonly percent: number) {}
  fire(): boolean {
    if (this.percent >= 100) return true;
    if (this.percent <= 0) return false;
    this.#acc += this.percent;
    if (this.#acc >= 100) {
      this.#acc -= 100;
      return true;
    }
    return false;
  }
}

export class FaultLayer {
  readonly route: string;
  readonly #delayMs: number;
  readonly #delay: Accumulator | undefined;
  readonly #abortStatus: number;
  /** fault.abort.grpcStatus as a code, -1 when the abort is an HTTP status. */
  readonly abortGrpcStatus: number;
  readonly #abort: Accumulator | undefined;
  readonly #headers: boolean;
  readonly #maxActive: number;
  /** Faults currently delaying or aborting a request. */
  active = 0;

  readonly #maxHeaderDelayMs: number;

  /** @param routeTimeoutMs the route's timeout (0 = none): a header-requested delay never outlasts it. */
  constructor(p: FaultPolicy, route: string, routeTimeoutMs = 0) {
    this.route = route;
    this.#maxHeaderDelayMs = routeTimeoutMs > 0 ? Math.min(routeTimeoutMs, MAX_HEADER_DELAY_MS) : MAX_HEADER_DELAY_MS;
    this.#delayMs = p.delay?.fixedDelayMs ?? 0;
    this.#delay = p.delay !== undefined ? new Accumulator(p.delay.percent) : undefined;
    // A gRPC abort answers gRPC callers with that status and HTTP callers with Envoy's HTTP equivalent.
    this.abortGrpcStatus = p.abort?.grpcStatus !== undefined ? GRPC_STATUS_NAMES.indexOf(p.abort.grpcStatus) : -1;
    this.#abortStatus = p.abort?.httpStatus ?? (this.abortGrpcStatus >= 0 ? grpcToHttpStatus(this.abortGrpcStatus) : 0);
    this.#abort = p.abort !== undefined && this.#abortStatus > 0 ? new Accumulator(p.abort.percent) : undefined;
    this.#headers = p.headerControlled === true;
    this.#maxActive = p.maxActiveFaults ?? Infinity;
  }

  /** Delay to inject for this request in ms (0 = none). */
  delayFor(h: IncomingHttpHeaders, rng: () => number): number {
    if (this.#headers) {
      const v = h[H_DELAY];
      if (typeof v === 'string' && this.#admit(h[H_DELAY_PCT], rng)) {
        const ms = Number(v);
        // Capped, never wrapped: an overflowing timer value would fire after 1 ms.
        if (Number.isFinite(ms) && ms > 0) return Math.min(ms, this.#maxHeaderDelayMs);
      }
    }
    return this.#delay !== undefined && this.active < this.#maxActive && this.#delay.fire() ? this.#delayMs : 0;
  }

  /** Status to abort this request with (0 = none). */
  abortFor(h: IncomingHttpHeaders, rng: () => number): number {
    if (this.#headers) {
      const v = h[H_ABORT];
      if (typeof v === 'string' && this.#admit(h[H_ABORT_PCT], rng)) {
        const status = Number(v);
        if (Number.isInteger(status) && status >= 200 && status < 600) return status;
      }
    }
    return this.#abort !== undefined && this.active < this.#maxActive && this.#abort.fire() ? this.#abortStatus : 0;
  }

  /** The gRPC status for an abort with this HTTP status: the configured grpcStatus, or -1 (derive from HTTP). */
  grpcStatusFor(status: number): number {
    return status === this.#abortStatus ? this.abortGrpcStatus : -1;
  }

  #admit(pct: string | string[] | undefined, rng: () => number): boolean {
    if (this.active >= this.#maxActive) return false;
    if (typeof pct !== 'string') return true;
    const p = Number(pct);
    return Number.isFinite(p) && rng() * 100 < p;
  }
}

export function compileFault(p: FaultPolicy | undefined, route: string, routeTimeoutMs = 0): FaultLayer | null {
  if (p === undefined) return null;
  if (p.delay === undefined && p.abort === undefined && p.headerControlled !== true) return null;
  return new FaultLayer(p, route, routeTimeoutMs);
}
