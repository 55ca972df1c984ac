// node:http listeners for the sidecar: HTTP/1.1 keep-alive, strict parsing,
// Envoy's 60 KiB header limit, 400/408/431 for malformed or stalled input
// without touching other connections, the request guard (header count,
// authority, scheme, owned headers), the shared connection budget, drain
// bookkeeping, and WebSocket upgrades handed to the caller.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FLAGS_HEADER } from '../errors/rescue.js';
import { listenOn } from './bind-error.js';
import type { ConnectionBudget } from './connection-budget.js';
import type { Drain } from './drain.js';
import { checkRequest, rejectionResponse, type RejectReason, type Rejection } from './request-guard.js';

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
}

const REARMED = Symbol('meshlet.idleRearmed');
type IdleSocket = Socket & { _httpMessage?: ServerResponse | null; [REARMED]?: boolean };

const CONNECT_REFUSED = rejectionResponse({ status: 405, reason: 'connect', message: 'CONNECT is not supported', flag: 'DPE' }).replace(
  'connection: close',
  'allow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE\r\nconnection: close',
);

export async function startListener(o: ListenerOptions): Promise<Server> {
  const outbound = o.direction === 'outbound';
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
    (req, res) => {
      o.drain.onRequest(res);
      const bad = checkRequest(req, o.maxHeadersCount, outbound);
      if (bad !== undefined) return reject(o, res, bad);
      try {
        o.onRequest(req, res);
      } catch (err) {
        o.onHandlerError(err);
        if (!res.headersSent) reject(o, res, { status: 500, reason: 'internal_error', message: 'internal error', flag: 'LR' });
        else res.destroy();
      }
    },
  );
  // One past the limit, so a request over it is seen (node drops headers past its cap silently).
  server.maxHeadersCount = o.maxHeadersCount + 1;
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => onClientError(o, err, socket));
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    o.onReject('connect');
    socket.on('error', () => socket.destroy());
    socket.end(CONNECT_REFUSED);
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
        socket.end(rejectionResponse(bad));
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
  o.drain.addServer(server);
  await listenOn(server, o.port, o.host, o.portFlag);
  return server;
}

function reject(o: ListenerOptions, res: ServerResponse, r: Rejection): void {
  o.onReject(r.reason);
  const body = r.message + '\n';
  res.shouldKeepAlive = false;
  res.writeHead(r.status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), [FLAGS_HEADER]: r.flag });
  res.end(body);
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
  if (!res.headersSent && !res.req.complete) {
    o.onReject('stream_idle');
    const body = 'stream idle timeout\n';
    res.shouldKeepAlive = false;
    res.writeHead(408, { 'content-type': 'text/plain', 'content-length': body.length, [FLAGS_HEADER]: 'SI' });
    res.end(body);
    return;
  }
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
  let status = '400 Bad Request';
  let body = `bad request: ${err.code ?? 'malformed'}\n`;
  let flag = 'DPE';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = '431 Request Header Fields Too Large';
    body = 'request header fields too large\n';
    flag = 'RHL';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    o.onReject('headers_timeout');
    status = '408 Request Timeout';
    body = 'request headers not received in time\n';
  } else if (err.code === 'HPE_PAUSED_H2_UPGRADE') {
    // `PRI * HTTP/2.0`: the HTTP/2 prior-knowledge preface. Until an h2 hand-off exists, refuse it here.
    body = 'HTTP/2 prior knowledge is not supported on this listener\n';
    o.onReject('http_version');
  } else o.onReject('bad_request');
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n${FLAGS_HEADER}: ${flag}\r\nconnection: close\r\n\r\n${body}`);
}
