// HTTP/2 (cleartext, prior knowledge) connections to one endpoint. Many
// streams share one connection; another connection opens only when every open
// one is at its stream limit: the smaller of the server's SETTINGS
// MAX_CONCURRENT_STREAMS and connectionPool.http.maxConcurrentStreams. A
// connection that served maxRequestsPerConnection streams is drained (GOAWAY)
// and replaced. Owned by the Endpoint and closed with it.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { h2Limits } from './h2-limits.js';
import type { SessionSlot, UpstreamTls } from './upstream-tls.js';

export interface H2Settings {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Streams served per connection before it is drained; undefined = unlimited. */
  readonly maxRequestsPerConnection: number | undefined;
  /** Our cap on concurrent streams per connection; undefined = the server's. */
  readonly maxConcurrentStreams: number | undefined;
  /** Max connections to this endpoint (connectionPool.tcp.maxConnections). */
  readonly maxConnections: number | undefined;
  /** Our receive window per stream (SETTINGS_INITIAL_WINDOW_SIZE). */
  readonly initialWindowSize: number;
  /** --stream-idle-timeout, upstream side: once the request is sent, a stream with no frames either way this long fails (0 = off). */
  readonly streamIdleTimeoutMs: number;
  /** TLS towards the endpoint (mesh mTLS or DestinationRule TLS); absent = cleartext (h2c). */
  readonly tls?: UpstreamTls;
  readonly tlsSession?: SessionSlot;
}

/** An HTTP/1-shaped request (Host header, hop-by-hop headers already gone) as HTTP/2 headers. */
export function toH2Headers(method: string, path: string, headers: Record<string, string | string[]>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': method, ':path': path, ':scheme': 'http' };
  for (const k in headers) {
    if (k === 'host') out[':authority'] = headers[k];
    else out[k] = headers[k];
  }
  const ct = headers['content-type'];
  // gRPC servers require `te: trailers` (dropped as hop-by-hop on the way in).
  if (typeof ct === 'string' && ct.startsWith('application/grpc')) out['te'] = 'trailers';
  return out;
}

/** Until the server's SETTINGS arrive, assume RFC 9113's recommended minimum. */
const ASSUMED_MAX_STREAMS = 100;

class Connection {
  readonly session: ClientHttp2Session;
  active = 0;
  served = 0;
  constructor(session: ClientHttp2Session) {
    this.session = session;
  }
}

/** An error whose code classifyError() reads as a connect failure. */
class ConnectTimeoutError extends Error {
  readonly code = 'UND_ERR_CONNECT_TIMEOUT';
}

export class H2Sessions {
  readonly #origin: string;
  readonly #host: string;
  readonly #port: number;
  readonly #settings: H2Settings;
  #conns: Connection[] = [];
  #closed = false;

  constructor(origin: string, host: string, port: number, settings: H2Settings) {
    this.#origin = origin;
    this.#host = host;
    this.#port = port;
    this.#settings = settings;
  }

  /** --stream-idle-timeout for upstream streams (armed by the attempt once its request is sent). */
  get streamIdleTimeoutMs(): number {
    return this.#settings.streamIdleTimeoutMs;
  }

  /** Open connections right now (for metrics and /clusters). */
  get connections(): number {
    return this.#conns.length;
  }

  /**
   * Opens a stream on a connection with room, opening a connection if none has.
   * `waitForTrailers`: the stream stays open after the body for sendTrailers().
   */
  request(headers: OutgoingHttpHeaders, endStream: boolean, waitForTrailers = false): ClientHttp2Stream {
    if (this.#closed) throw Object.assign(new Error('endpoint closed'), { code: 'ECONNREFUSED' });
    const c = this.#pick();
    const stream = c.session.request(headers, { endStream, waitForTrailers });
    c.active++;
    c.served++;
    stream.once('close', () => {
      c.active--;
      this.#maybeRetire(c);
    });
    return stream;
  }

  #pick(): Connection {
    const s = this.#settings;
    let best: Connection | undefined;
    for (const c of this.#conns) {
      const sess = c.session;
      if (sess.closed || sess.destroyed) continue;
      if (s.maxRequestsPerConnection !== undefined && s.maxRequestsPerConnection > 0 && c.served >= s.maxRequestsPerConnection) continue;
      const remote = sess.remoteSettings.maxConcurrentStreams ?? ASSUMED_MAX_STREAMS;
      const limit = s.maxConcurrentStreams !== undefined ? Math.min(remote, s.maxConcurrentStreams) : remote;
      if (c.active < limit && (best === undefined || c.active < best.active)) best = c;
    }
    if (best !== undefined) return best;
    if (s.maxConnections !== undefined && this.#conns.length >= s.maxConnections && this.#conns.length > 0) {
      // At the connection cap: queue on the least loaded one (nghttp2 holds the stream until a slot frees).
      let least = this.#conns[0]!;
      for (const c of this.#conns) if (c.active < least.active) least = c;
      return least;
    }
    return this.#open();
  }

  #open(): Connection {
    const s = this.#settings;
    const session = connect(this.#origin, {
      settings: { initialWindowSize: s.initialWindowSize, enablePush: false },
      peerMaxConcurrentStreams: ASSUMED_MAX_STREAMS,
      // Small gRPC messages must not wait for Nagle's algorithm.
      createConnection: () =>
        s.tls !== undefined && s.tlsSession !== undefined ? s.tls.connect(this.#host, this.#port, 'http2', s.tlsSession) : netConnect({ host: this.#host, port: this.#port, noDelay: true }),
    });
    const c = new Connection(session);
    this.#conns.push(c);
    const timer = setTimeout(() => session.destroy(new ConnectTimeoutError(`connect timeout after ${s.connectTimeoutMs} ms`)), s.connectTimeoutMs);
    session.once('connect', () => {
      clearTimeout(timer);
      session.setLocalWindowSize(h2Limits.connectionWindowSize);
    });
    // An idle connection (no frames either way) is closed; streams in flight keep it busy.
    session.setTimeout(s.idleTimeoutMs, () => {
      if (c.active === 0) session.close();
    });
    // Errors reach the streams; the session just leaves the pool.
    session.on('error', () => undefined);
    session.once('goaway', () => this.#remove(c));
    session.once('close', () => {
      clearTimeout(timer);
      this.#remove(c);
    });
    return c;
  }

  #maybeRetire(c: Connection): void {
    const max = this.#settings.maxRequestsPerConnection;
    if (max !== undefined && max > 0 && c.served >= max && c.active === 0) {
      this.#remove(c);
      c.session.close();
    }
  }

  #remove(c: Connection): void {
    const i = this.#conns.indexOf(c);
    if (i >= 0) this.#conns.splice(i, 1);
  }

  /** Graceful: streams in flight finish, then the connections close. */
  close(): void {
    this.#closed = true;
    for (const c of this.#conns) c.session.close();
    this.#conns = [];
  }

  /** Immediate: cancels streams in flight. */
  destroy(): void {
    this.#closed = true;
    for (const c of this.#conns) c.session.destroy(undefined, constants.NGHTTP2_CANCEL);
    this.#conns = [];
  }
}
