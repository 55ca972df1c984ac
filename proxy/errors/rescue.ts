// The one place that turns a failure into a local reply. Every layer reports
// failures as MeshletError; status, flags header, body and the exchange's
// recorded outcome all come from the error, so logs and metrics agree with
// what the client saw.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Exchange } from '../exchange/index.js';
import { MeshletError, errors } from './index.js';
import { flagsToString } from './flags.js';
import { writeGrpcReply } from './grpc-reply.js';

export const FLAGS_HEADER = 'x-meshlet-flags';

/** Writes the local reply for `err` (if the response has not started) and records it on the exchange. */
export function rescue(ex: Exchange, res: ServerResponse, err: unknown): void {
  const e = err instanceof MeshletError ? err : errors.upstreamReset(err instanceof Error ? err.message : String(err));
  ex.flags |= e.flag;
  ex.detail = e.detail ?? e.message;
  if (res.headersSent) {
    // The response already started: all we can do is cut it, so the client
    // sees a truncated body instead of a silently wrong one.
    ex.status = ex.status || e.status;
    res.destroy();
    return;
  }
  if (ex.protocol === 'grpc') {
    ex.status = 200;
    const extra: Record<string, string> = { [FLAGS_HEADER]: flagsToString(ex.flags) };
    if (e.headers !== undefined) for (const k in e.headers) extra[k] = e.headers[k] as string;
    if (ex.requestId !== '') extra['x-request-id'] = ex.requestId;
    ex.grpcStatus = writeGrpcReply(res, e, extra);
    return;
  }
  ex.status = e.status;
  const body = e.message + '\n';
  res.statusCode = e.status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader(FLAGS_HEADER, flagsToString(ex.flags));
  if (e.headers !== undefined) for (const k in e.headers) res.setHeader(k, e.headers[k] as string);
  if (ex.requestId !== '') res.setHeader('x-request-id', ex.requestId);
  ex.bytesOut += body.length;
  res.end(body);
}

/**
 * A request node:http could not parse (its `clientError`): there is no
 * ServerResponse, so the reply is written on the socket, which is then closed;
 * other connections are untouched.
 */
export function rescueClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || (err.code === 'ECONNRESET' && socket.destroyed)) {
    socket.destroy();
    return;
  }
  rescueSocket(socket, clientErrorOf(err));
}

/** The MeshletError for a node:http client error code. */
export function clientErrorOf(err: Error & { code?: string }): MeshletError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return errors.headersTooLarge();
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return errors.requestHeadersTimeout();
    case 'HPE_PAUSED_H2_UPGRADE':
      // `PRI * HTTP/2.0`, the HTTP/2 prior-knowledge preface: refused until an h2 hand-off exists.
      return errors.badRequest('HTTP/2 prior knowledge is not supported on this listener');
    default:
      return errors.badRequest(err.code ?? 'malformed');
  }
}

/** A reply written on a raw socket (client errors, CONNECT, refused upgrades), which is then closed. */
export function rescueSocket(socket: Duplex, e: MeshletError): void {
  const body = e.message + '\n';
  let head = `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
  head += `${FLAGS_HEADER}: ${flagsToString(e.flag)}\r\n`;
  if (e.headers !== undefined) for (const k in e.headers) head += `${k}: ${e.headers[k] as string}\r\n`;
  socket.end(`${head}connection: close\r\n\r\n${body}`);
}

/**
 * A local reply for a request refused before the pipeline made an Exchange
 * (the listener's request guard, stream-idle, a throwing handler): same
 * status, flags header and body as rescue(); the connection closes after it.
 */
export function rescueUnrouted(res: ServerResponse, e: MeshletError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const ct = res.req?.headers['content-type'];
  if (typeof ct === 'string' && ct.startsWith('application/grpc')) {
    // A gRPC caller reads only grpc-status (Envoy: a 408 stream timeout becomes UNKNOWN).
    writeGrpcReply(res, e, { [FLAGS_HEADER]: flagsToString(e.flag) });
    return;
  }
  const body = e.message + '\n';
  res.shouldKeepAlive = false;
  res.statusCode = e.status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.setHeader(FLAGS_HEADER, flagsToString(e.flag));
  if (e.headers !== undefined) for (const k in e.headers) res.setHeader(k, e.headers[k] as string);
  res.end(body);
}
