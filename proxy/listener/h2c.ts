// HTTP/2 cleartext with prior knowledge on the same port as HTTP/1.1. Each new
// connection's first bytes are compared with the client preface
// (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`): a match goes to a node:http2 server,
// anything else to the node:http server unchanged. The bytes read are put
// back (unshift) before the chosen server sees the socket.
//
// This is the minimal per-connection sniff the HTTP/2 issue needs; the
// interception issue's protocol detector (TLS, opaque TCP, timeouts) replaces
// `sniffPreface` when it lands and hands HTTP/2 sockets to `h2.emit('connection')`.
import { constants, createServer as createH2Server, type ServerHttp2Session, type ServerHttp2Stream, type Http2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { h2Limits } from '../upstream/h2-limits.js';
import { InFlightList } from './in-flight-list.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** 'h2' when `buf` is (a prefix of) the preface, 'h1' as soon as a byte differs, 'more' if undecided. */
export function classifyPreface(buf: Buffer): 'h1' | 'h2' | 'more' {
  const n = Math.min(buf.length, PREFACE.length);
  for (let i = 0; i < n; i++) if (buf[i] !== PREFACE[i]) return 'h1';
  return n === PREFACE.length ? 'h2' : 'more';
}

/** Reads until the preface decides, puts the bytes back and calls one of the two. */
export function sniffPreface(socket: Socket, onH1: (s: Socket) => void, onH2: (s: Socket) => void, timeoutMs = 0): void {
  let seen: Buffer | undefined;
  // A connection that never sends its first bytes would otherwise be held
  // forever (node's headers timer only starts once HTTP/1.1 owns the socket).
  const timer = timeoutMs > 0 ? setTimeout(() => socket.destroy(), timeoutMs) : undefined;
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) {
      seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
      const kind = classifyPreface(seen);
      if (kind === 'more') continue;
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      if (timer !== undefined) clearTimeout(timer);
      socket.unshift(seen);
      return kind === 'h2' ? onH2(socket) : onH1(socket);
    }
  };
  // A client that closes before deciding (port scan, health probe): nothing to
  // answer. Handing the ended socket to HTTP/1.1 would leave it half-open for
  // good (its 'end' is already spent), leaking a connection-budget slot.
  const onEnd = (): void => {
    socket.off('readable', onReadable);
    if (timer !== undefined) clearTimeout(timer);
    socket.destroy();
  };
  socket.on('readable', onReadable);
  socket.once('end', onEnd);
  socket.on('error', noop);
}

function noop(): void {}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Adds HTTP/2 prior knowledge to an HTTP/1.1 server: the server keeps listening
 * (address, close, drain behave as before); connections are sniffed first.
 * The HTTP/2 compatibility request/response pair goes to the same handler.
 */
/** The caller has sent END_STREAM (its request is complete), whether or not anyone read the body yet. */
function remoteDone(stream: ServerHttp2Stream): boolean {
  const st = stream.state.state;
  return stream.endAfterHeaders || st === constants.NGHTTP2_STREAM_STATE_HALF_CLOSED_REMOTE || st === constants.NGHTTP2_STREAM_STATE_CLOSED;
}

const RESPONSE = Symbol('meshlet.h2response');
const REARMED = Symbol('meshlet.h2idleRearmed');
type IdleStream = ServerHttp2Stream & { [RESPONSE]?: Http2ServerResponse; [REARMED]?: boolean };

/** `onStalled`: the stream idle timeout fired on a caller still sending its request, before any response (answers 408 SI). */
export function addH2c(
  server: Server,
  onRequest: RequestHandler,
  idleTimeoutMs: number,
  streamIdleTimeoutMs = 0,
  sniffTimeoutMs = 0,
  onStalled: (res: ServerResponse) => void = (res) => res.destroy(),
): Http2Server {
  const h2 = createH2Server({
    settings: {
      maxConcurrentStreams: h2Limits.maxConcurrentStreams,
      initialWindowSize: h2Limits.initialWindowSize,
      enablePush: false,
    },
    maxSessionMemory: 64,
  });
  h2.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    (req.stream as IdleStream)[RESPONSE] = res;
    onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  });
  // One add and one delete per connection: a list, not a Set (in-flight-list.ts says why).
  const sessions = new InFlightList<ServerHttp2Session>();
  h2.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.setLocalWindowSize(h2Limits.connectionWindowSize);
    // The downstream idle timeout: an HTTP/2 connection with no frames either way is closed with GOAWAY.
    session.setTimeout(idleTimeoutMs, () => session.close());
    session.on('error', noop);
  });
  h2.setTimeout(0);
  // Envoy's stream_idle_timeout, per stream: no frames either way for that
  // long. As Envoy: a caller that stalled before the response started gets a
  // local 408 (SI; a gRPC caller reads grpc-status UNKNOWN, "stream idle
  // timeout"). A request waiting on its upstream gets one more period, for
  // the upstream stream's timer of the same length to answer (504 SI, or a
  // gRPC status mid-stream). Otherwise (or one period after a 408 the caller
  // never answered by ending its side) the stream is reset.
  if (streamIdleTimeoutMs > 0) {
    const onIdle = function (this: IdleStream): void {
      const res = this[RESPONSE];
      if (res !== undefined && !res.headersSent && !remoteDone(this)) {
        onStalled(res as unknown as ServerResponse);
        // The caller may never end its side: reset the stream one period later if it is still open.
        this[REARMED] = true;
        this.setTimeout(streamIdleTimeoutMs);
        return;
      }
      if (res !== undefined && this[REARMED] !== true && !res.writableEnded) {
        this[REARMED] = true;
        this.setTimeout(streamIdleTimeoutMs);
        return;
      }
      this.close(constants.NGHTTP2_CANCEL);
    };
    h2.on('stream', (stream: ServerHttp2Stream) => stream.setTimeout(streamIdleTimeoutMs, onIdle));
  }
  // Only node's own HTTP/1.1 connection listener waits for the sniff; others
  // (the connection budget) still see every connection first.
  const own = server.listeners('connection').find((l) => l.name === 'connectionListener') as ((s: Socket) => void) | undefined;
  if (own === undefined) throw new Error('node:http server without its connection listener');
  server.off('connection', own);
  const toH1 = (s: Socket): void => {
    s.off('error', noop);
    own.call(server, s);
  };
  const toH2 = (s: Socket): void => {
    s.off('error', noop);
    s.setNoDelay(true);
    h2.emit('connection', s);
  };
  server.on('connection', (s: Socket) => sniffPreface(s, toH1, toH2, sniffTimeoutMs));
  // close(): HTTP/2 connections get GOAWAY and finish their streams; closeAllConnections(): cut.
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const s of sessions) s.close();
    return close(cb);
  }) as typeof server.close;
  // Drain: idle HTTP/1.1 connections close; HTTP/2 ones get GOAWAY and finish their streams.
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    for (const s of sessions) s.close();
    closeIdle();
  };
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    for (const s of sessions) s.destroy();
    closeAll();
  };
  return h2;
}
