// Workload identity of the calling sidecar, for inbound metrics. Istio learns
// it through its metadata-exchange filter over mTLS; we have no mTLS, so the
// outbound sidecar sends its identity in ONE header, `x-meshlet-peer:
// workload;namespace;app;version`, built once at start-up (one header write
// per request, and the inbound side keys its cache by the raw value with no
// string building). The inbound side strips it before the app sees it.
// It is not authenticated: a client that forges it only mislabels its own
// requests in metrics. Distinct values are bounded by recency (peer-cache.ts),
// so it can neither blow up series nor lock genuine callers out of their labels.
import type { IncomingHttpHeaders } from 'node:http';

export const PEER_HEADER = 'x-meshlet-peer';

export interface WorkloadIdentity {
  readonly workload: string;
  readonly namespace: string;
  readonly app: string;
  readonly version: string;
}

export const UNKNOWN_PEER: WorkloadIdentity = Object.freeze({ workload: 'unknown', namespace: 'unknown', app: 'unknown', version: 'unknown' });

const clean = (s: string): string => (s === '' ? 'unknown' : s.replace(/[;\r\n]/g, '_'));

/** The header value this sidecar sends on outbound requests. */
export function encodePeer(id: WorkloadIdentity): string {
  return [clean(id.workload), clean(id.namespace), clean(id.app), clean(id.version)].join(';');
}

/** Parses a peer header value; malformed values are the unknown peer. */
export function decodePeer(value: string): WorkloadIdentity {
  const p = value.split(';');
  if (p.length !== 4) return UNKNOWN_PEER;
  const f = (s: string | undefined): string => (s === undefined || s === '' ? 'unknown' : s.slice(0, 253));
  return Object.freeze({ workload: f(p[0]), namespace: f(p[1]), app: f(p[2]), version: f(p[3]) });
}

/** The raw peer header of an incoming request, '' when absent. */
export function peerHeaderOf(headers: IncomingHttpHeaders): string {
  const v = headers[PEER_HEADER];
  return typeof v === 'string' ? v : '';
}
