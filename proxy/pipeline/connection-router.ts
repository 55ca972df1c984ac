// Where each accepted connection goes, per listener, once its protocol is
// known (proxy/listener/connection-dispatch.ts decides the protocol):
//
//   outbound  HTTP/1.1 → the HTTP server (request path: outbound.ts)
//             HTTP/2   → the HTTP/2 handoff, when installed
//             TLS      → VirtualService tls route by SNI → declared TLS service by SNI
//                        → declared service by original destination → traffic policy
//             TCP      → declared service by original destination → traffic policy
//   inbound   PeerAuthentication first (pipeline/inbound-mtls.ts): mesh mTLS terminated
//             and sniffed again, plaintext refused under STRICT; then
//             HTTP/1.1 → the inbound HTTP server; anything else → 127.0.0.1:<original port>
//             (after the AuthorizationPolicies' L4 check: denied → closed, flag RBAC)
//             (after the AuthorizationPolicies' L4 check: denied → closed, flag RBAC)
//
// A connection that was not redirected (explicit proxy, standalone mode) has
// no destination of its own beyond the listener: non-HTTP bytes on it are
// closed with NR, exactly as before interception existed.
import type { Socket } from 'node:net';
import type { OutboundTrafficPolicy } from '../config/model/index.js';
import { Flag } from '../errors/flags.js';
import type { ConnectionHandlers, ConnectionInfo, DeclaredProtocol, InboundMtls } from '../listener/connection-dispatch.js';
import type { Snapshot } from '../snapshot/index.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { DestinationInfo } from '../exchange/index.js';
import { BLACKHOLE, PASSTHROUGH } from './passthrough.js';
import { refuseConnection } from './authorize-inbound.js';
import { proxyTcp, type TcpDeps, type TcpTarget } from './tcp.js';

export interface RouterDeps {
  readonly snapshot: () => Snapshot | undefined;
  /** The effective outbound traffic policy (Sidecar resource over the flag). */
  readonly policy: () => OutboundTrafficPolicy;
  readonly tcp: TcpDeps;
  /** HTTP/2 handoff; undefined = the HTTP server's own h2c handling (listener/h2c.ts). */
  readonly http2: ((socket: Socket, conn: ConnectionInfo) => void) | undefined;
  /** A redirect loop was refused (counted, logged by the caller). */
  readonly onLoop: (conn: ConnectionInfo) => void;
}

/**
 * node:http's connection handler (behind the h2c preface check). No resume()
 * here: the h2c check reads with 'readable', and a resume scheduled under it
 * would let the bytes after the preface flow past the HTTP/2 session.
 */
function toHttp(http: (socket: Socket) => void): (socket: Socket) => void {
  return (socket) => http(socket);
}

function refuseLoop(deps: RouterDeps): (socket: Socket, conn: ConnectionInfo) => void {
  return (socket, conn) => {
    deps.onLoop(conn);
    socket.resetAndDestroy();
  };
}

export function outboundHandlers(http: (socket: Socket) => void, deps: RouterDeps): ConnectionHandlers {
  const httpHandoff = toHttp(http);
  return {
    declared: (conn): DeclaredProtocol => (conn.redirected ? deps.snapshot()?.l4.declaredProtocol(conn.dstAddress, conn.dstPort) : undefined),
    http1: (socket) => httpHandoff(socket),
    // node:http's side of the listener also takes HTTP/2 prior knowledge (listener/h2c.ts reads the preface).
    http2: deps.http2 ?? httpHandoff,
    tls: (socket, conn) => proxyTcp('outbound', socket, conn, tlsTarget(deps, conn), deps.tcp),
    tcp: (socket, conn) => proxyTcp('outbound', socket, conn, tcpTarget(deps, conn), deps.tcp),
    loop: refuseLoop(deps),
  };
}

export interface InboundTarget {
  readonly appAddress: string;
  /** --app-port: used only when the connection carries no original destination. */
  readonly appPort: number;
  readonly destination: DestinationInfo;
}

export function inboundHandlers(http: (socket: Socket) => void, deps: RouterDeps, app: InboundTarget, mtls?: InboundMtls): ConnectionHandlers {
  const httpHandoff = toHttp(http);
  const toApp = (socket: Socket, conn: ConnectionInfo): void => {
    const port = conn.redirected ? conn.dstPort : app.appPort;
    // AuthorizationPolicy on L4 (ports, principals, ipBlocks): a denied connection is closed, flag RBAC.
    const refuse = refuseConnection(deps.snapshot()?.authz, socket, conn, app.appPort, deps.tcp.events) ? Flag.RBAC : undefined;
    const target: TcpTarget = { destination: app.destination, cluster: undefined, address: app.appAddress, port, routeName: 'inbound', ...(refuse !== undefined ? { refuse } : {}) };
    proxyTcp('inbound', socket, conn, target, deps.tcp);
  };
  return {
    declared: () => undefined,
    http1: (socket) => httpHandoff(socket),
    http2: deps.http2 ?? httpHandoff,
    tls: toApp,
    tcp: toApp,
    loop: refuseLoop(deps),
    ...(mtls !== undefined ? { mtls } : {}),
  };
}

function clusterTarget(cluster: ClusterRuntime, routeName: string): TcpTarget {
  return { destination: cluster.destination, cluster, address: '', port: 0, routeName };
}

/** Outside the registry: the original destination (ALLOW_ANY) or nowhere (REGISTRY_ONLY, or not redirected). */
function policyTarget(deps: RouterDeps, conn: ConnectionInfo): TcpTarget {
  if (!conn.redirected || deps.policy() === 'REGISTRY_ONLY') {
    return { destination: BLACKHOLE, cluster: undefined, address: '', port: 0, routeName: '', refuse: Flag.NR };
  }
  return { destination: PASSTHROUGH, cluster: undefined, address: conn.dstAddress, port: conn.dstPort, routeName: 'allow_any' };
}

function tcpTarget(deps: RouterDeps, conn: ConnectionInfo): TcpTarget {
  const snap = deps.snapshot();
  const svc = conn.redirected ? snap?.l4.lookup(conn.dstAddress, conn.dstPort) : undefined;
  if (svc?.cluster !== undefined) return clusterTarget(svc.cluster, svc.source);
  return policyTarget(deps, conn);
}

function tlsTarget(deps: RouterDeps, conn: ConnectionInfo): TcpTarget {
  const snap = deps.snapshot();
  const sni = conn.sni;
  if (snap !== undefined && sni !== null) {
    const route = snap.l4.tlsRoute(sni, conn.dstPort);
    if (route !== undefined) {
      const cluster = route.split.next();
      if (cluster !== undefined) return clusterTarget(cluster, route.name);
      return { destination: BLACKHOLE, cluster: undefined, address: '', port: 0, routeName: route.name, refuse: Flag.UH };
    }
    const svc = snap.l4.tlsService(sni, conn.dstPort);
    if (svc?.cluster !== undefined) return clusterTarget(svc.cluster, svc.source);
  }
  return tcpTarget(deps, conn);
}
