// THE L4 PATH: an opaque TCP (or TLS passthrough) connection, after the
// listener chose its protocol and the router chose its target:
//
//   admit   connectionPool.tcp.maxConnections (overflow → closed, flag UO, counted)
//   → pick  the cluster's load balancer (least connections reads `active`;
//           consistent hash keys on the source IP)
//   → connect  with the cluster's connect timeout (UF on failure, reported to
//              outlier detection as a connect failure)
//   → pipe  both ways with backpressure (stream.pipe), half-close passed on
//   → observe  once, when both sockets are closed: istio_tcp_* and one access-log line
//
// A passthrough target (PassthroughCluster, inbound to the local app) has no
// cluster: it connects to the fixed address.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TLSSocket } from 'node:tls';
import { Flag } from '../errors/flags.js';
import { hashString } from '../layers/balance/index.js';
import type { ConnectionInfo, DestinationInfo, Direction, ResilienceEvents, TcpObserver, TcpRecord } from '../exchange/index.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { OutcomeRecorder } from '../upstream/outcome-recorder.js';

export interface TcpTarget {
  readonly destination: DestinationInfo;
  /** Declared service: balance over its endpoints. Undefined: connect to address:port. */
  readonly cluster: ClusterRuntime | undefined;
  readonly address: string;
  readonly port: number;
  /** Route or rule that chose the target (access log), e.g. a VirtualService tls route. */
  readonly routeName: string;
  /** Nothing may be connected (REGISTRY_ONLY, no route): close at once with this flag. */
  readonly refuse?: number;
}

export interface TcpDeps {
  readonly observer: TcpObserver;
  readonly outlier: OutcomeRecorder;
  readonly events: ResilienceEvents;
  /** Connect timeout for targets without a cluster (Istio: 10 s). */
  readonly connectTimeoutMs: number;
  /** Idle timeout of a proxied connection (Istio's TCP default: 1 h). */
  readonly idleTimeoutMs: number;
  /** Source address for connections to the local app (inbound), e.g. 127.0.0.6; undefined = the kernel's choice. */
  readonly localAddress?: string;
}

/**
 * An RST tells the client "refused" rather than "closed normally"; a TLS
 * socket (a connection whose mTLS the sidecar terminated) has no TCP handle
 * to reset, so it is destroyed instead.
 */
function resetOrDestroy(s: Socket): void {
  if (s instanceof TLSSocket) s.destroy();
  else s.resetAndDestroy();
}

/** Proxies one downstream socket to its target; owns both sockets until they close. */
export function proxyTcp(direction: Direction, downstream: Socket, conn: ConnectionInfo, target: TcpTarget, deps: TcpDeps): void {
  new TcpSession(direction, downstream, conn, target, deps).start();
}

class TcpSession implements TcpRecord {
  readonly direction: Direction;
  readonly conn: ConnectionInfo;
  readonly destination: DestinationInfo;
  readonly routeName: string;
  endpoint: Endpoint | undefined;
  upstreamHost = '';
  bytesReceived = 0;
  bytesSent = 0;
  readonly startEpochMs = Date.now();
  readonly #startMs = performance.now();
  durationMs = 0;
  flags = 0;
  connected = false;
  readonly #down: Socket;
  #up: Socket | undefined;
  readonly #target: TcpTarget;
  readonly #deps: TcpDeps;
  #connectTimer: NodeJS.Timeout | undefined;
  #open = 2;
  #finished = false;

  constructor(direction: Direction, down: Socket, conn: ConnectionInfo, target: TcpTarget, deps: TcpDeps) {
    this.direction = direction;
    this.conn = conn;
    this.destination = target.destination;
    this.routeName = target.routeName;
    this.#down = down;
    this.#target = target;
    this.#deps = deps;
  }

  start(): void {
    const down = this.#down;
    const t = this.#target;
    down.on('error', () => this.#onDownError());
    down.once('close', () => this.#closed());
    if (t.refuse !== undefined) return this.#reject(t.refuse);
    let host = t.address;
    let port = t.port;
    let timeoutMs = this.#deps.connectTimeoutMs;
    const cluster = t.cluster;
    if (cluster !== undefined) {
      const max = cluster.policy.connectionPool?.maxConnections;
      if (max !== undefined && cluster.active >= max) {
        this.#deps.events.overflow(cluster.destination.service, 'max_connections');
        return this.#reject(Flag.UO);
      }
      const lb = cluster.policy.lb.kind;
      const hash = lb === 'ring_hash' || lb === 'maglev' ? hashString(this.conn.srcAddress) : undefined;
      const ep = cluster.picker.pick(hash, undefined, cluster.panic);
      if (ep === undefined) return this.#reject(Flag.UH);
      this.endpoint = ep;
      host = ep.address;
      port = ep.port;
      timeoutMs = cluster.poolSettings().connectTimeoutMs;
      cluster.active++;
      ep.active++;
      ep.requestsTotal++;
      cluster.requestsTotal++;
    }
    this.upstreamHost = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    // Mesh mTLS (or DestinationRule TLS) to this endpoint: ready at the end of the handshake.
    const tls = this.endpoint?.tls;
    let up: Socket;
    try {
      up = tls !== undefined ? tls.connect(host, port, 'tcp', this.endpoint!.tlsSession) : connect({ host, port, noDelay: true, allowHalfOpen: true, ...(this.#deps.localAddress !== undefined ? { localAddress: this.#deps.localAddress } : {}) });
    } catch {
      // No workload certificate yet: nothing was connected.
      this.#open = 1;
      return this.#connectFailed('connect');
    }
    this.#up = up;
    this.#connectTimer = setTimeout(() => this.#connectFailed('timeout'), timeoutMs);
    up.once(tls !== undefined ? 'secureConnect' : 'connect', () => this.#onConnect());
    up.on('error', () => (this.connected ? this.#onUpError() : this.#connectFailed('connect')));
    up.once('close', () => this.#closed());
  }

  #onConnect(): void {
    clearTimeout(this.#connectTimer);
    this.connected = true;
    const up = this.#up!;
    const down = this.#down;
    if (this.endpoint !== undefined) this.#deps.outlier.record(this.#target.cluster!, this.endpoint, 200);
    // The client may have gone while we connected.
    if (down.destroyed) return void up.destroy();
    this.#deps.observer.onOpen(this);
    down.setTimeout(this.#deps.idleTimeoutMs, () => this.#idle());
    // pipe() carries backpressure both ways and ends the other side on FIN
    // (allowHalfOpen keeps the reverse direction open until it ends too).
    down.pipe(up);
    up.pipe(down);
  }

  #connectFailed(why: 'connect' | 'timeout'): void {
    if (this.connected || this.#finished) return;
    clearTimeout(this.#connectTimer);
    this.flags |= Flag.UF;
    if (this.endpoint !== undefined) this.#deps.outlier.record(this.#target.cluster!, this.endpoint, why === 'timeout' ? 'timeout' : 'connect');
    this.#up?.destroy();
    // An RST tells the client "refused" rather than "closed normally".
    resetOrDestroy(this.#down);
  }

  #onUpError(): void {
    this.flags |= Flag.UC;
    resetOrDestroy(this.#down);
  }

  #onDownError(): void {
    this.flags |= Flag.DC;
    if (this.#up !== undefined) this.#up.destroy();
  }

  #idle(): void {
    this.#down.destroy();
    this.#up?.destroy();
  }

  #reject(flag: number): void {
    this.flags |= flag;
    this.#open = 1; // no upstream socket will ever close
    resetOrDestroy(this.#down);
  }

  #closed(): void {
    // Both sockets must be gone: a half-closed side may still be delivering bytes.
    if (--this.#open > 0) return;
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#connectTimer);
    this.durationMs = performance.now() - this.#startMs;
    this.bytesReceived = this.#down.bytesRead;
    this.bytesSent = this.#down.bytesWritten;
    const c = this.#target.cluster;
    if (c !== undefined && this.endpoint !== undefined) {
      c.active--;
      this.endpoint.active--;
    }
    this.#deps.observer.onClose(this);
  }
}
