// Workload identity of the calling sidecar, for inbound metrics. Istio learns
// it through its metadata-exchange filter over mTLS; here the outbound sidecar
// sends it in ONE header, `x-meshlet-peer: workload;namespace;app;version`,
// built once at start-up. The inbound side trusts it only on a mesh mTLS
// connection, and only when its namespace is the one the verified certificate
// names (istio-metrics.ts, trustedPeerKey); on plaintext it is ignored, so it
// cannot be forged. It is stripped before the app sees it. Distinct values are
// bounded by recency (peer-cache.ts), so they can neither blow up series nor
// lock genuine callers out of their labels.
import type { IncomingHttpHeaders } from 'node:http';

export const PEER_HEADER = 'x-meshlet-peer';

export interface WorkloadIdentity {
  readonly workload: string;
  readonly namespace: string;
  readonly app: string;
  readonly version: string;
  /** The verified SPIFFE ID (mTLS), when there is one. */
  readonly principal?: string;
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
  if (p.length !== 4 && p.length !== 5) return UNKNOWN_PEER;
  const f = (s: string | undefined): string => (s === undefined || s === '' ? 'unknown' : s.slice(0, 253));
  const id = { workload: f(p[0]), namespace: f(p[1]), app: f(p[2]), version: f(p[3]) };
  // A fifth field is only ever written by the inbound side itself: the verified principal.
  return Object.freeze(p.length === 5 && p[4] !== '' ? { ...id, principal: p[4]!.slice(0, 512) } : id);
}

/** The raw peer header of an incoming request, '' when absent. */
export function peerHeaderOf(headers: IncomingHttpHeaders): string {
  const v = headers[PEER_HEADER];
  return typeof v === 'string' ? v : '';
}
