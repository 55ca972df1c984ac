// The inbound metrics key of a request's caller: its x-meshlet-peer header,
// trusted only on a mesh mTLS connection and only when the header's namespace
// is the namespace of the verified certificate, with the verified SPIFFE ID
// appended as a fifth field. On plaintext the header is ignored (it would be
// a forgery anyone can send). Computed once per distinct header value per
// connection (a keep-alive or HTTP/2 connection repeats the same one), so the
// hot path does a WeakMap lookup and a string compare.
import type { Socket } from 'node:net';
import { peerIdentityOf } from '../identity/peer-identity.js';
import { decodePeer } from './peer.js';

interface Memo {
  raw: string;
  key: string;
}

const memo = new WeakMap<Socket, Memo>();

/** '' = an unknown (unauthenticated) caller. */
export function trustedPeerKey(socket: Socket | null | undefined, raw: string): string {
  const peer = peerIdentityOf(socket);
  if (peer === undefined) return '';
  const s = socket!;
  const m = memo.get(s);
  if (m !== undefined && m.raw === raw) return m.key;
  const claimed = raw === '' ? undefined : decodePeer(raw);
  const trusted = claimed !== undefined && claimed.namespace === peer.namespace && raw.split(';').length === 4;
  const key = trusted ? `${raw};${peer.spiffeId}` : `unknown;${peer.namespace};unknown;unknown;${peer.spiffeId}`;
  memo.set(s, { raw, key });
  return key;
}
