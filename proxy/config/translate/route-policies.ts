// Per-route policies of an Istio HTTPRoute → model: retries, fault, header
// operations. Mirrors need destination checks, so they live in virtual-host.ts.

import type { FaultPolicy, HeaderOps, RetryOn, RetryPolicy } from '../model/index.js';
import { parseDuration, type IstioHeaderOps, type IstioHTTPFaultInjection, type IstioHTTPRetry } from '../istio/index.js';
import type { MeshletAnnotations } from './meshlet-annotations.js';

export type IssueReporter = (path: string, reason: string) => void;

/**
 * Istio's default retryOn (pilot `route/retry`, 1.24 and later):
 * `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes`
 * with no retriable status codes, so no HTTP status is retried; the gRPC
 * names only match gRPC responses. Used when `retries` has no `retryOn`.
 */
const ISTIO_DEFAULT_RETRY_ON: readonly RetryOn[] = ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'];

/**
 * Used when a route says nothing about retries: Istio's mesh default, 2
 * retries on the conditions above for any method. A connect failure or a
 * refused stream never reached the app, so retrying it is safe for a POST too.
 */
export const SAFE_DEFAULT_RETRIES: RetryPolicy = {
  attempts: 2,
  retryOn: ISTIO_DEFAULT_RETRY_ON,
  retriableStatusCodes: [],
  idempotentOnly5xx: false,
  isDefault: true,
};

const RETRY_ON: ReadonlySet<string> = new Set<RetryOn>([
  '5xx', 'gateway-error', 'connect-failure', 'refused-stream', 'reset', 'retriable-4xx',
  'retriable-status-codes', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

function isRetryOn(s: string): s is RetryOn {
  return RETRY_ON.has(s);
}

export function toRetryPolicy(r: IstioHTTPRetry | undefined, path: string, issues: IssueReporter): RetryPolicy {
  if (r === undefined) return SAFE_DEFAULT_RETRIES;
  const attempts = r.attempts ?? 0; // Istio: unset attempts means no retries
  const perTry = r.perTryTimeout !== undefined ? parseDuration(r.perTryTimeout) : undefined;
  if (attempts === 0) return { attempts: 0, retryOn: [], retriableStatusCodes: [], idempotentOnly5xx: false, isDefault: false };
  let retryOn: RetryOn[] = [...ISTIO_DEFAULT_RETRY_ON];
  let codes: number[] = [];
  if (r.retryOn !== undefined && r.retryOn.trim() !== '') {
    retryOn = [];
    codes = [];
    for (const raw of r.retryOn.split(',')) {
      const tok = raw.trim();
      if (tok === '') continue;
      if (/^\d+$/.test(tok)) {
        const code = Number(tok);
        if (code < 100 || code > 599) issues(`${path}.retryOn`, `status code ${tok} is outside 100..599`);
        else if (!codes.includes(code)) codes.push(code);
      } else if (isRetryOn(tok)) {
        if (!retryOn.includes(tok)) retryOn.push(tok);
      } else {
        issues(`${path}.retryOn`, `unsupported retry condition "${tok}" (supported: ${[...RETRY_ON].join(', ')}, or a status code)`);
      }
    }
    // Bare status codes only mean something with this condition on, as in Istio.
    if (codes.length > 0 && !retryOn.includes('retriable-status-codes')) retryOn.push('retriable-status-codes');
  }
  return {
    attempts,
    ...(perTry !== undefined ? { perTryTimeoutMs: perTry } : {}),
    retryOn,
    retriableStatusCodes: codes,
    idempotentOnly5xx: false,
    isDefault: false,
  };
}

const NO_PERCENTAGE = 'no percentage given: no request is faulted (Istio: "if left unspecified, no request will be" faulted); set percentage.value: 100 for every request';

/**
 * A delay or abort without a percentage faults no request, as in Istio
 * (pilot translates a missing percentage to 0%); a warning says so.
 */
export function toFaultPolicy(
  f: IstioHTTPFaultInjection | undefined,
  ann: MeshletAnnotations,
  path = 'fault',
  warn: (path: string, reason: string, severity: 'warning' | 'info') => void = () => undefined,
): FaultPolicy | undefined {
  if (f === undefined && !ann.faultHeaderControl) return undefined;
  const out: { -readonly [K in keyof FaultPolicy]: FaultPolicy[K] } = {};
  if (f?.delay?.fixedDelay !== undefined) {
    const percent = f.delay.percentage?.value ?? f.delay.percent;
    if (percent === undefined) warn(`${path}.delay`, NO_PERCENTAGE, 'warning');
    out.delay = { fixedDelayMs: parseDuration(f.delay.fixedDelay) ?? 0, percent: percent ?? 0 };
  }
  if (f?.abort !== undefined) {
    const percent = f.abort.percentage?.value;
    if (percent === undefined) warn(`${path}.abort`, NO_PERCENTAGE, 'warning');
    out.abort = {
      ...(f.abort.httpStatus !== undefined ? { httpStatus: f.abort.httpStatus } : {}),
      ...(f.abort.grpcStatus !== undefined ? { grpcStatus: f.abort.grpcStatus } : {}),
      percent: percent ?? 0,
    };
  }
  if (ann.faultHeaderControl) out.headerControlled = true;
  if (ann.maxActiveFaults !== undefined) out.maxActiveFaults = ann.maxActiveFaults;
  if (ann.expiresAt !== undefined) out.expiresAt = ann.expiresAt;
  return out;
}

export function toHeaderOps(h: IstioHeaderOps | undefined): HeaderOps | undefined {
  if (h === undefined) return undefined;
  const out: { -readonly [K in keyof HeaderOps]: HeaderOps[K] } = {};
  if (h.set) out.set = lowerKeys(h.set);
  if (h.add) out.add = lowerKeys(h.add);
  if (h.remove) out.remove = h.remove.map((n) => n.toLowerCase());
  return Object.keys(out).length > 0 ? out : undefined;
}

export function toHeaders(
  h: { request?: IstioHeaderOps; response?: IstioHeaderOps } | undefined,
): { request?: HeaderOps; response?: HeaderOps } | undefined {
  const request = toHeaderOps(h?.request);
  const response = toHeaderOps(h?.response);
  if (!request && !response) return undefined;
  return { ...(request ? { request } : {}), ...(response ? { response } : {}) };
}

function lowerKeys(rec: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) out[k.toLowerCase()] = v;
  return out;
}
