// One accept path per listener port: read the original destination (once per
// connection), then choose the protocol (declared by the destination's
// ServiceEntry port, else sniffed from the first bytes, else opaque TCP after
// the detection timeout for server-first protocols) and hand the socket, with
// every byte read so far pushed back, to that protocol's handler.
//
// HTTP/2 handoff point (the HTTP/2 issue): set `ConnectionHandlers.http2`; it
// receives sockets whose first bytes are the `PRI * HTTP/2.0` preface (or whose
// destination port is declared HTTP2/GRPC), preface unread, ready for
// `http2Server.emit('connection', socket)`. Left undefined, such connections
// are opaque TCP.
//
// Connections that were not redirected keep the behaviour of an HTTP/1.1
// listener (see handOff): only the HTTP/2 preface changes where they go.
import type { Socket } from 'node:net';
import type { ConnectionInfo, DeclaredProtocol, DetectedProtocol } from '../exchange/index.js';
import type { MtlsMode } from '../config/model/index.js';
import { offersAlpn } from './client-hello-alpn.js';
import { detectProtocol, MAX_SNIFF_BYTES, readSni } from './detect-protocol.js';

export type { ConnectionInfo, DeclaredProtocol } from '../exchange/index.js';
import { readOriginalDst } from './original-dst.js';

const CONNECTION = Symbol('meshlet.connection');
/** Envoy's default listener_filters_timeout. */
export const DECLARED_TLS_TIMEOUT_MS = 15_000;
type TaggedSocket = Socket & { [CONNECTION]?: ConnectionInfo };

/** The connection's info, for request handlers that need the original destination (read once at accept). */
export function connectionInfoOf(socket: Socket | null | undefined): ConnectionInfo | undefined {
  return socket === null || socket === undefined ? undefined : (socket as TaggedSocket)[CONNECTION];
}

export interface ConnectionHandlers {
  declared(conn: ConnectionInfo): DeclaredProtocol;
  http1(socket: Socket, conn: ConnectionInfo): void;
  /** The HTTP/2 handoff (see the header comment); undefined = treat as opaque TCP. */
  http2: ((socket: Socket, conn: ConnectionInfo) => void) | undefined;
  tls(socket: Socket, conn: ConnectionInfo): void;
  tcp(socket: Socket, conn: ConnectionInfo): void;
  /** A redirected connection whose original destination is this proxy's own listener (a loop). */
  loop(socket: Socket, conn: ConnectionInfo): void;
  /** Inbound only: PeerAuthentication (terminate mesh mTLS, refuse plaintext under STRICT). */
  mtls?: InboundMtls;
}

/** The inbound side's mutual TLS, applied before the protocol handlers see a connection. */
export interface InboundMtls {
  /** The PeerAuthentication mode for this connection (its port), read once per connection. */
  mode(conn: ConnectionInfo): MtlsMode;
  /** Terminates mesh mTLS; `secured` gets the decrypted socket. False: no workload certificate to do it with. */
  terminate(socket: Socket, secured: (s: Socket) => void): boolean;
  /** STRICT refused this connection (plaintext, non-mesh TLS, or no certificate to terminate with): counted. */
  refused(conn: ConnectionInfo, why: 'plaintext' | 'no_certificate'): void;
  /** A connection without mesh mTLS was let in (PERMISSIVE / DISABLE): tracked until it closes, for `enforce`. */
  admitted(socket: Socket, conn: ConnectionInfo): void;
}

const MESH_ALPN = 'istio-peer-exchange';

export interface DispatchOptions {
  /** No client bytes for this long → opaque TCP (server-first protocols). */
  readonly detectionTimeoutMs: number;
  /**
   * How long a connection to a port declared TLS waits for its ClientHello
   * (Envoy's listener-filter timeout, 15 s by default): a TLS client is
   * client-first, and a slow one (a loaded machine, a big key exchange setup)
   * must not be cut to opaque TCP after detectionTimeoutMs and lose its SNI.
   */
  readonly declaredTlsTimeoutMs?: number;
  /** True when ip:port is one of this proxy's own listeners. */
  readonly isOwnListener: (address: string, port: number) => boolean;
}

/** The 'connection' listener for a listener's net.Server. */
export function createConnectionDispatcher(h: ConnectionHandlers, o: DispatchOptions): (socket: Socket) => void {
  return (socket) => {
    const od = readOriginalDst(socket);
    const conn: ConnectionInfo = {
      dstAddress: od?.address ?? stripMapped(socket.localAddress ?? ''),
      dstPort: od?.port ?? socket.localPort ?? 0,
      redirected: od !== undefined,
      srcAddress: stripMapped(socket.remoteAddress ?? ''),
      srcPort: socket.remotePort ?? 0,
      protocol: 'tcp',
      sni: null,
      declared: false,
    };
    (socket as TaggedSocket)[CONNECTION] = conn;
    if (od !== undefined && o.isOwnListener(od.address, od.port)) return h.loop(socket, conn);
    const declared = h.declared(conn);
    if (declared === 'tcp' || declared === 'http1' || (declared === 'http2' && h.http2 !== undefined)) {
      conn.declared = true;
      return handOff(h, socket, conn, declared);
    }
    // Undeclared, or TLS (we still need the ClientHello for its SNI): sniff.
    // A STRICT inbound port accepts nothing but a client-first ClientHello, so it
    // waits for one as a declared TLS port does: the server-first fallback could
    // only lead to a refusal there, and cut a slow mesh caller off.
    conn.declared = declared === 'tls';
    const waitsForHello = declared === 'tls' || h.mtls?.mode(conn) === 'STRICT';
    new Sniffer(socket, conn, h, waitsForHello ? Math.max(o.detectionTimeoutMs, o.declaredTlsTimeoutMs ?? DECLARED_TLS_TIMEOUT_MS) : o.detectionTimeoutMs);
  };
}

/**
 * PeerAuthentication, before any protocol handler: mesh mTLS (a ClientHello
 * offering istio-peer-exchange) is terminated unless the mode is DISABLE, and
 * the decrypted stream is sniffed again (HTTP/1.1, HTTP/2 or TCP inside);
 * STRICT refuses everything else. Returns true when it took the socket.
 */
function applyMtls(m: InboundMtls, h: ConnectionHandlers, socket: Socket, conn: ConnectionInfo, p: DetectedProtocol, timeoutMs: number): boolean {
  const mode = m.mode(conn);
  if (mode === 'DISABLE') return false;
  if (p === 'tls' && conn.meshTls === true) {
    const took = m.terminate(socket, (secured) => {
      conn.mtls = true;
      conn.sni = null;
      conn.protocol = 'tcp';
      (secured as TaggedSocket)[CONNECTION] = conn;
      new Sniffer(secured, conn, h, timeoutMs);
    });
    if (took) return true;
    m.refused(conn, 'no_certificate');
    socket.destroy();
    return true;
  }
  if (mode !== 'STRICT') return false;
  m.refused(conn, 'plaintext');
  socket.destroy();
  return true;
}

function handOff(h: ConnectionHandlers, socket: Socket, conn: ConnectionInfo, p: DetectedProtocol, timeoutMs = 0): void {
  if (h.mtls !== undefined && conn.mtls !== true) {
    if (applyMtls(h.mtls, h, socket, conn, p, timeoutMs)) return;
    h.mtls.admitted(socket, conn);
  }
  if (p === 'http2' && h.http2 === undefined) p = 'tcp';
  // Not redirected (explicit proxy, standalone): the listener is the only
  // destination there is, so whatever is not HTTP/2 is HTTP/1.1, as it always
  // was (a slow client is not cut off by the detection timeout; garbage gets 400).
  if (!conn.redirected && (p === 'tcp' || p === 'tls')) p = 'http1';
  conn.protocol = p;
  if (p === 'http1') h.http1(socket, conn);
  else if (p === 'http2') h.http2!(socket, conn);
  else if (p === 'tls') h.tls(socket, conn);
  else h.tcp(socket, conn);
}

/** `::ffff:10.0.0.1` → `10.0.0.1`: one spelling for IPv4 peers on dual-stack listeners. */
function stripMapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Reads until the first bytes say what the protocol is, then pushes them back and hands the socket over. */
class Sniffer {
  readonly #socket: Socket;
  readonly #conn: ConnectionInfo;
  readonly #h: ConnectionHandlers;
  readonly #timer: NodeJS.Timeout;
  #grace: NodeJS.Immediate | undefined;
  readonly #timeoutMs: number;
  #buf: Buffer = Buffer.alloc(0);
  #detected: DetectedProtocol | undefined;
  readonly #onData = (chunk: Buffer): void => this.#data(chunk);
  readonly #onGone = (): void => this.#abandon();

  constructor(socket: Socket, conn: ConnectionInfo, h: ConnectionHandlers, timeoutMs: number) {
    this.#socket = socket;
    this.#conn = conn;
    this.#h = h;
    this.#timeoutMs = timeoutMs;
    this.#timer = setTimeout(() => this.#expire(), timeoutMs);
    socket.on('data', this.#onData);
    socket.once('end', this.#onGone);
    socket.once('error', this.#onGone);
    socket.once('close', this.#onGone);
  }

  #data(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const d = detectProtocol(this.#buf);
    if (d === 'more') {
      if (this.#buf.length >= MAX_SNIFF_BYTES) this.#finish('tcp');
      return;
    }
    if (d === 'tls') {
      this.#detected = 'tls';
      const sni = readSni(this.#buf);
      if (sni === undefined) return; // rest of the ClientHello still to come (the timer bounds the wait)
      this.#conn.sni = sni;
      if (this.#h.mtls !== undefined) this.#conn.meshTls = offersAlpn(this.#buf, MESH_ALPN);
    }
    this.#finish(d);
  }

  /**
   * The detection timeout. Timers run before I/O in a loop turn, so bytes that
   * arrived while the loop was busy (a loaded machine) are still unread: one
   * poll phase reads them before we conclude the client sent nothing.
   */
  #expire(): void {
    this.#grace = setImmediate(() => this.#finish(this.#detected ?? 'tcp'));
  }

  #detach(): void {
    clearTimeout(this.#timer);
    if (this.#grace !== undefined) clearImmediate(this.#grace);
    const s = this.#socket;
    s.off('data', this.#onData);
    s.off('end', this.#onGone);
    s.off('error', this.#onGone);
    s.off('close', this.#onGone);
  }

  #finish(p: DetectedProtocol): void {
    this.#detach();
    const s = this.#socket;
    // Stop the flow we started, and give every byte back to whoever reads next.
    s.pause();
    if (this.#buf.length > 0) s.unshift(this.#buf);
    handOff(this.#h, s, this.#conn, p, this.#timeoutMs);
  }

  /** The client left (or failed) before we knew its protocol: nothing to hand over. */
  #abandon(): void {
    this.#detach();
    this.#socket.destroy();
  }
}
