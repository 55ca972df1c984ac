// x-forwarded-client-cert on inbound requests, as Istio's sidecar sets it
// (Envoy SANITIZE_SET with By, Hash, Subject, URI): the app learns which
// verified workload called it. Whatever a caller sent in this header is
// dropped first, so it can never be forged; on plaintext connections the app
// gets no header at all. The value is built once per connection (hashing the
// peer certificate per request would cost on the hot path).
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { peerIdentityOf } from './peer-identity.js';

export const XFCC_HEADER = 'x-forwarded-client-cert';

const cache = new WeakMap<Socket, string | null>();

/** The XFCC value for requests on `socket`, or undefined when its peer is not a verified workload. */
export function forwardedClientCert(socket: Socket | null | undefined, by: string): string | undefined {
  if (socket === null || socket === undefined) return undefined;
  const hit = cache.get(socket);
  if (hit !== undefined) return hit ?? undefined;
  const peer = peerIdentityOf(socket);
  let value: string | null = null;
  if (peer !== undefined) {
    const der = (socket as TLSSocket).getPeerCertificate().raw;
    const hash = createHash('sha256').update(der).digest('hex');
    value = `By=${by};Hash=${hash};Subject="";URI=${peer.spiffeId}`;
  }
  cache.set(socket, value);
  return value ?? undefined;
}

/** Replaces the caller's XFCC (if any) with ours: set only on a verified mTLS connection. */
export function setForwardedClientCert(headers: Record<string, string | string[]>, socket: Socket | null | undefined, by: string | undefined): void {
  if (headers[XFCC_HEADER] !== undefined) delete headers[XFCC_HEADER];
  if (by === undefined) return;
  const v = forwardedClientCert(socket, by);
  if (v !== undefined) headers[XFCC_HEADER] = v;
}
