// The verified identity of the peer on an inbound connection. Only a TLS
// socket whose certificate chain Node already verified against the mesh root
// (`authorized === true`) has one; a plaintext socket, or a TLS socket without
// a client certificate, has none. It is read once per connection (parsing the
// certificate per request would be an allocation on the hot path) and kept
// beside the socket, so every request on a keep-alive or HTTP/2 connection
// shares it. Authorization, metrics' principals and XFCC all read it here.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { formatSpiffeId, parseSpiffeId, type SpiffeIdentity } from '../config/model/spiffe-id.js';

export interface PeerIdentity extends SpiffeIdentity {
  /** `spiffe://td/ns/N/sa/S`. */
  readonly spiffeId: string;
  /** Istio's principal form: `td/ns/N/sa/S` (what `source.principals` matches). */
  readonly principal: string;
}

const cache = new WeakMap<Socket, PeerIdentity | null>();

/** The verified SPIFFE identity of the peer on `socket`, or undefined. */
export function peerIdentityOf(socket: Socket | null | undefined): PeerIdentity | undefined {
  if (socket === null || socket === undefined) return undefined;
  // The cache first: an HTTP/2 session's socket (a proxy) throws on any use once
  // the session is gone, and observers may ask after that; the pipeline asks
  // first while the request is live (Pipeline's constructor, inbound).
  const hit = cache.get(socket);
  if (hit !== undefined) return hit ?? undefined;
  let id: PeerIdentity | undefined;
  try {
    if (!(socket instanceof TLSSocket)) return undefined;
    id = readPeer(socket);
  } catch {
    return undefined;
  }
  cache.set(socket, id ?? null);
  return id;
}

function readPeer(socket: TLSSocket): PeerIdentity | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  // subjectaltname: "URI:spiffe://td/ns/a/sa/b, DNS:x" (Node's own formatting).
  const san = cert?.subjectaltname;
  if (typeof san !== 'string') return undefined;
  for (const entry of san.split(', ')) {
    if (!entry.startsWith('URI:')) continue;
    const parsed = parseSpiffeId(entry.slice(4));
    if (parsed === undefined) continue;
    const spiffeId = formatSpiffeId(parsed);
    return Object.freeze({ ...parsed, spiffeId, principal: spiffeId.slice('spiffe://'.length) });
  }
  return undefined;
}
