// One upstream replica. Long-lived: it survives config swaps as long as the
// same ip:port stays in its cluster, so its connection pool, in-flight count
// and outlier state are not reset by an unrelated route change.
import type { Socket } from 'node:net';
import type { buildConnector } from 'undici';
import { Pool } from './undici-pool.js';
import { H2Sessions } from './h2-sessions.js';
import type { SessionSlot, UpstreamTls } from './upstream-tls.js';
import { h2Limits } from './h2-limits.js';
import type { EndpointModel } from '../config/model/index.js';
import type { PickableEndpoint } from '../layers/balance/pickable.js';
import type { EndpointInfo } from '../exchange/index.js';

export interface PoolSettings {
  /** Max connections to this endpoint (connectionPool.tcp.maxConnections); undefined = unbounded. */
  readonly maxConnections: number | undefined;
  readonly connectTimeoutMs: number;
  /** Upstream keep-alive idle time: below Node's 5 s server default, so we never reuse a socket the server is closing. */
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number | undefined;
  /** HTTP/2: streams per connection before another opens (connectionPool.http.maxConcurrentStreams). */
  readonly maxConcurrentStreams: number | undefined;
}

let streamIdleMs = 300_000;

/**
 * --stream-idle-timeout, upstream side: no response headers, or no body bytes,
 * for this long fails the attempt with 504 SI (0 = off). Process-wide, set at
 * start-up; pools created afterwards use it.
 */
export function setStreamIdleTimeout(ms: number): void {
  streamIdleMs = ms;
}

export class Endpoint implements PickableEndpoint, EndpointInfo {
  readonly id: string;
  readonly authority: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly app: string;
  readonly version: string;
  readonly workload: string;
  readonly namespace: string;
  /** Requests in flight to this endpoint. */
  active = 0;
  /** False while ejected by outlier detection. */
  available = true;
  /** Why the endpoint is unavailable (for /clusters). */
  state = 'healthy';
  /** Left its cluster (config or DNS): nothing may count it any more. */
  removed = false;
  requestsTotal = 0;
  errorsTotal = 0;
  #pool: Pool | undefined;
  #h2: H2Sessions | undefined;
  #poolSettings: PoolSettings;
  readonly origin: string;
  /** How connections to this endpoint are secured (undefined = plaintext); fixed for the endpoint's life. */
  readonly tls: UpstreamTls | undefined;
  /** The last TLS session, so the next connection resumes instead of a full handshake. */
  readonly tlsSession: SessionSlot = { context: undefined, session: undefined, peer: undefined };

  /** The SPIFFE ID the endpoint's latest TLS handshake verified (undefined: plaintext, or none yet). */
  get peerPrincipal(): string | undefined {
    return this.tlsSession.peer;
  }

  constructor(model: EndpointModel, address: string, serviceName: string, serviceNamespace: string, pool: PoolSettings, tls?: UpstreamTls) {
    this.tls = tls;
    this.address = address;
    this.port = model.port;
    this.id = address.includes(':') ? `[${address}]:${model.port}` : `${address}:${model.port}`;
    this.authority = this.id;
    this.origin = `http://${this.id}`;
    this.weight = model.weight >= 1 ? model.weight : 1;
    this.labels = model.labels;
    this.app = model.labels['app'] ?? serviceName;
    this.version = model.labels['version'] ?? 'unknown';
    this.workload = model.labels['workload'] ?? (model.labels['version'] !== undefined ? `${this.app}-${this.version}` : this.app);
    this.namespace = model.labels['namespace'] ?? serviceNamespace;
    this.#poolSettings = pool;
  }

  /** The connection pool, created on first use (endpoints that never get traffic cost no sockets). */
  get pool(): Pool {
    if (this.#pool === undefined) {
      const s = this.#poolSettings;
      this.#pool = new Pool(this.origin, {
        connections: s.maxConnections ?? null,
        pipelining: 1,
        connect: this.tls === undefined ? { timeout: s.connectTimeoutMs, noDelay: true } : this.#tlsConnector(s.connectTimeoutMs),
        keepAliveTimeout: s.idleTimeoutMs,
        keepAliveMaxTimeout: s.idleTimeoutMs,
        keepAliveTimeoutThreshold: 500,
        maxRequestsPerClient: s.maxRequestsPerConnection,
        // Route deadlines are ours (one timer covering all attempts); undici's
        // own timers are the stream-idle timeout against a stalled peer (504 SI).
        headersTimeout: streamIdleMs,
        bodyTimeout: streamIdleMs,
      });
    }
    return this.#pool;
  }

  /** HTTP/2 connections, created on first use by an HTTP/2 cluster (or the inbound cluster for an HTTP/2 caller). */
  get h2(): H2Sessions {
    if (this.#h2 === undefined) {
      const s = this.#poolSettings;
      this.#h2 = new H2Sessions(this.origin, this.address, this.port, {
        connectTimeoutMs: s.connectTimeoutMs,
        idleTimeoutMs: s.idleTimeoutMs,
        maxRequestsPerConnection: s.maxRequestsPerConnection,
        maxConcurrentStreams: s.maxConcurrentStreams,
        maxConnections: s.maxConnections,
        initialWindowSize: h2Limits.initialWindowSize,
        streamIdleTimeoutMs: streamIdleMs,
        ...(this.tls !== undefined ? { tls: this.tls, tlsSession: this.tlsSession } : {}),
      });
    }
    return this.#h2;
  }

  /**
   * undici's connector for a TLS endpoint: the handshake (with the certificate
   * current at this moment) completes before undici sees the socket, within
   * the connect timeout. A verification failure is a connect failure (UF).
   */
  #tlsConnector(timeoutMs: number): buildConnector.connector {
    const tls = this.tls!;
    return (_opts, cb) => {
      let socket: Socket;
      try {
        socket = tls.connect(this.address, this.port, 'http1', this.tlsSession);
      } catch (err) {
        cb(err as Error, null);
        return;
      }
      const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`TLS connect timeout after ${timeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), timeoutMs);
      const onError = (err: Error & { code?: string }): void => {
        clearTimeout(timer);
        // A reset or close during the handshake (a STRICT peer refusing us, a peer
        // that is not a sidecar) is a TLS failure, not a reset of a request in flight.
        const code = err.code ?? '';
        const reset = code === '' || code === 'ECONNRESET' || code === 'EPIPE';
        cb(reset ? Object.assign(new Error(`TLS handshake with ${this.id} failed: ${err.message}`), { code: 'MESH_ERR_TLS_HANDSHAKE' }) : err, null);
      };
      socket.once('error', onError);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        cb(null, socket);
      });
    };
  }

  /** Connected sockets right now (for metrics and /clusters). */
  get connections(): number {
    return (this.#pool?.stats.connected ?? 0) + (this.#h2?.connections ?? 0);
  }

  /** Pool settings changed (a new DestinationRule): close the old pool gracefully; the next request makes a new one. */
  reconfigure(pool: PoolSettings): void {
    const old = this.#pool;
    this.#poolSettings = pool;
    this.#pool = undefined;
    if (old !== undefined) void old.close().catch(() => undefined);
    this.#h2?.close();
    this.#h2 = undefined;
  }

  close(): void {
    this.removed = true;
    const old = this.#pool;
    this.#pool = undefined;
    if (old !== undefined) void old.close().catch(() => undefined);
    this.#h2?.close();
    this.#h2 = undefined;
  }
}
