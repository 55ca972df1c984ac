// node:http listeners for the sidecar: HTTP/1.1 keep-alive, strict parsing,
// Envoy's 60 KiB header limit, 400/408/431 for malformed or stalled input
// without touching other connections (replies written by errors/rescue.ts),
// the request guard (header count, authority, scheme, owned headers), the
// shared connection budget, drain bookkeeping, and upgrades handed to the
// pipeline's upgrade handler.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errors, type MeshletError } from '../errors/index.js';
import { clientErrorOf, rescueSocket, rescueUnrouted } from '../errors/rescue.js';
import { listenOn } from './bind-error.js';
import { addH2c } from './h2c.js';
import type { ConnectionBudget } from './connection-budget.js';
import type { Drain } from './drain.js';
import { checkRequest, type RejectReason } from './request-guard.js';
import { InFlightList } from './in-flight-list.js';

export { BindError, explainBindError, listenOn } from './bind-error.js';
export { ConnectionBudget, effectiveMaxConnections, openFileLimit } from './connection-budget.js';
export { Drain, type DrainOutcome } from './drain.js';
export type { RejectReason } from './request-guard.js';

export interface ListenerOptions {
  readonly port: number;
  readonly host: string;
  /** The flag that sets `port`, named when the port cannot be bound. */
  readonly portFlag: string;
  readonly direction: 'outbound' | 'inbound';
  readonly maxHeaderBytes: number;
  /** More request headers than this → 431. */
  readonly maxHeadersCount: number;
  /** Downstream keep-alive idle timeout. */
  readonly idleTimeoutMs: number;
  /** The whole request head must arrive within this (408). */
  readonly requestHeadersTimeoutMs: number;
  /** No bytes either way on a request for this long → 408 (client stalled) or cut. 0 = off. */
  readonly streamIdleTimeoutMs: number;
  readonly budget: ConnectionBudget;
  readonly drain: Drain;
  /** Every request refused before the pipeline (for the rejections counter). */
  readonly onReject: (reason: RejectReason) => void;
  /** A handler threw synchronously: answered 500 here, reported there. */
  readonly onHandlerError: (err: unknown) => void;
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  readonly onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * Per-connection entry (connection-dispatch.ts: original destination, then
   * protocol). It receives node:http's own connection handler to hand HTTP/1.1
   * sockets back to. Absent: every connection is HTTP/1.1.
   */
  readonly accept?: (toHttp: (socket: Socket) => void) => (socket: Socket) => void;
}

const REARMED = Symbol('meshlet.idleRearmed');
type IdleSocket = Socket & { _httpMessage?: ServerResponse | null; [REARMED]?: boolean };

const CONNECT = errors.connectNotAllowed();
const STREAM_IDLE = errors.downstreamIdle();
const INTERNAL = errors.internal();

export async function startListener(o: ListenerOptions): Promise<Server> {
  const outbound = o.direction === 'outbound';
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    o.drain.onRequest(res);
    const bad = checkRequest(req, o.maxHeadersCount, outbound);
    if (bad !== undefined) return reject(o, res, bad.reason, bad.error);
    try {
      o.onRequest(req, res);
    } catch (err) {
      o.onHandlerError(err);
      reject(o, res, 'internal_error', INTERNAL);
    }
  };
  const server = createServer(
    {
      maxHeaderSize: o.maxHeaderBytes,
      keepAlive: true,
      keepAliveTimeout: o.idleTimeoutMs,
      // Whole-request timers are the route's business; this one bounds slowloris heads.
      requestTimeout: 0,
      headersTimeout: o.requestHeadersTimeoutMs,
      // node checks the headers timer on this period; keep it a fraction of the timeout.
      connectionsCheckingInterval: o.requestHeadersTimeoutMs > 0 ? Math.max(50, Math.min(30_000, Math.floor(o.requestHeadersTimeoutMs / 4))) : 30_000,
      noDelay: true,
      insecureHTTPParser: false,
    },
    handle,
  );
  // HTTP/2 with prior knowledge on the same port: same guard, drain and pipeline.
  addH2c(server, handle, o.idleTimeoutMs, o.streamIdleTimeoutMs, o.requestHeadersTimeoutMs, (res) => reject(o, res, 'stream_idle', STREAM_IDLE));
  // One past the limit, so a request over it is seen (node drops headers past its cap silently).
  server.maxHeadersCount = o.maxHeadersCount + 1;
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => onClientError(o, err, socket));
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    o.onReject('connect');
    socket.on('error', () => socket.destroy());
    rescueSocket(socket, CONNECT);
  });
  if (o.streamIdleTimeoutMs > 0) {
    server.timeout = o.streamIdleTimeoutMs;
    server.on('timeout', (socket: IdleSocket) => onStreamIdle(o, socket));
  }
  const onUpgrade = o.onUpgrade;
  if (onUpgrade !== undefined) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const bad = checkRequest(req, o.maxHeadersCount, outbound);
      if (bad !== undefined) {
        o.onReject(bad.reason);
        rescueSocket(socket, bad.error);
        return;
      }
      o.drain.onTunnel(socket);
      try {
        onUpgrade(req, socket, head);
      } catch (err) {
        o.onHandlerError(err);
        socket.destroy();
      }
    });
  }
  o.budget.attach(server);
  if (o.accept !== undefined) interpose(server, o.accept);
  o.drain.addServer(server);
  await listenOn(server, o.port, o.host, o.portFlag);
  return server;
}

/** Sockets a listener handed to non-HTTP paths (TCP, TLS passthrough): node:http does not track them. */
const foreign = new WeakMap<Server, InFlightList<Socket>>();

/**
 * Puts `accept` in front of node:http's connection handler: the server keeps
 * listening, counting (budget, drain) and tracking HTTP connections as
 * before, but every socket first meets `accept`, which hands HTTP/1.1 ones
 * back to node:http. Registered after the budget, so a refused socket is
 * already destroyed when `accept` would see it.
 */
function interpose(server: Server, accept: NonNullable<ListenerOptions['accept']>): void {
  const httpConnection = server.listeners('connection')[0] as (this: Server, socket: Socket) => void;
  server.removeListener('connection', httpConnection);
  // One add and one delete per connection: a list, not a Set (in-flight-list.ts says why).
  const tracked = new InFlightList<Socket>();
  foreign.set(server, tracked);
  const entry = accept((socket) => {
    tracked.delete(socket);
    httpConnection.call(server, socket);
  });
  server.on('connection', (socket: Socket) => {
    if (socket.destroyed) return;
    tracked.add(socket);
    socket.once('close', () => tracked.delete(socket));
    entry(socket);
  });
}

/** Destroys the connections node:http does not know about (closeAllConnections covers the rest). */
export function destroyForeignConnections(server: Server): void {
  const set = foreign.get(server);
  if (set === undefined) return;
  for (const s of set) s.destroy();
  set.clear();
}

function reject(o: ListenerOptions, res: ServerResponse, reason: RejectReason, e: MeshletError): void {
  o.onReject(reason);
  rescueUnrouted(res, e);
}

/**
 * No bytes either way for the stream-idle timeout. A client that stopped
 * sending its body gets 408 (flag SI); a request waiting on its upstream is
 * left to the upstream side's timer of the same length (504 SI) once; a
 * response that already started is cut; an idle keep-alive socket is closed.
 */
function onStreamIdle(o: ListenerOptions, socket: IdleSocket): void {
  const res = socket._httpMessage;
  if (res === undefined || res === null || res.writableFinished) return void socket.destroy();
  if (!res.headersSent && !res.req.complete) return reject(o, res, 'stream_idle', STREAM_IDLE);
  if (!res.headersSent && socket[REARMED] !== true) {
    socket[REARMED] = true;
    socket.setTimeout(o.streamIdleTimeoutMs);
    return;
  }
  socket.destroy();
}

/** Malformed requests get a short reply on that connection only; the process keeps serving. */
function onClientError(o: ListenerOptions, err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || (err.code === 'ECONNRESET' && socket.destroyed)) {
    socket.destroy();
    return;
  }
  o.onReject(err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'headers_timeout' : err.code === 'HPE_PAUSED_H2_UPGRADE' ? 'http_version' : 'bad_request');
  rescueSocket(socket, clientErrorOf(err));
}
