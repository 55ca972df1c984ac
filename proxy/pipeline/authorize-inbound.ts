// The authorization step of the inbound path (HTTP requests and TCP
// connections): fills the Authorizer's attributes from the request and its
// connection (verified peer certificate, addresses, original destination
// port) and turns a denial into the RBAC error, reported once. Reads the
// peer identity through proxy/identity, never from a header a caller could
// forge.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { errors, type MeshletError } from '../errors/index.js';
import type { ConnectionInfo, ResilienceEvents } from '../exchange/index.js';
import { peerIdentityOf } from '../identity/peer-identity.js';
import type { Authorizer } from '../layers/authorize/index.js';
import { connectionInfoOf } from '../listener/connection-dispatch.js';
import type { RequestState } from './outbound.js';

/** `::ffff:10.0.0.1` → `10.0.0.1` (as connection-dispatch spells peers). */
function plainAddress(a: string | undefined): string {
  if (a === undefined) return '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function fillConnection(authz: Authorizer, socket: Socket, conn: ConnectionInfo | undefined, appPort: number): void {
  const a = authz.attrs;
  // Istio's destination.port is the workload port the caller dialled (the original destination).
  a.port = conn !== undefined && conn.redirected ? conn.dstPort : appPort;
  a.sourceIp = conn?.srcAddress ?? plainAddress(socket.remoteAddress);
  a.destinationIp = conn?.dstAddress ?? plainAddress(socket.localAddress);
  a.peer = peerIdentityOf(socket);
  const sni = socket instanceof TLSSocket ? socket.servername : undefined;
  a.sni = typeof sni === 'string' ? sni : (conn?.sni ?? undefined);
}

/** The RBAC error for a denied request, or undefined when it may proceed. */
export function authorizeRequest(authz: Authorizer, s: RequestState, appPort: number, events: ResilienceEvents): MeshletError | undefined {
  // The connection's socket (for HTTP/2 the session's, not the stream's view):
  // the peer identity is then read once per connection, not once per stream.
  const socket = s.ex.socket;
  fillConnection(authz, socket, connectionInfoOf(socket), appPort);
  const a = authz.attrs;
  a.method = s.method;
  a.path = s.path;
  a.host = s.authority;
  a.headers = s.headers;
  const v = authz.check(true);
  a.headers = undefined;
  if (authz.audited !== '') {
    events.authorization('audited', authz.audited, 'http');
    if (v.allowed) s.ex.detail = `rbac_audit_matched_policy[${authz.audited}]`;
  }
  if (v.allowed) return undefined;
  events.authorization('denied', v.policy, 'http');
  return errors.rbacDenied(v.detail);
}

/** True when the TCP connection must be refused (closed with flag RBAC). */
export function refuseConnection(authz: Authorizer | null | undefined, socket: Socket, conn: ConnectionInfo, appPort: number, events: ResilienceEvents): boolean {
  if (authz === null || authz === undefined) return false;
  fillConnection(authz, socket, conn, appPort);
  const v = authz.check(false);
  if (authz.audited !== '') events.authorization('audited', authz.audited, 'tcp');
  if (v.allowed) return false;
  events.authorization('denied', v.policy, 'tcp');
  return true;
}
