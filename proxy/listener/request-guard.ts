// Checks a request head before the pipeline sees it, for what node:http's
// strict parser lets through but a sidecar must not: too many headers (node
// silently drops those past its own cap), userinfo in the authority, an
// absolute-form target with a scheme other than http, an HTTP/2.0 request line
// on this HTTP/1.1 listener. It also drops request headers the proxy owns, so
// a client can never make them look as if the proxy had written them.
// Cost on the hot path: a handful of property reads and one indexOf on Host.
import type { IncomingMessage } from 'node:http';
import { FLAGS_HEADER } from '../errors/rescue.js';

export type RejectReason =
  | 'bad_request'
  | 'too_many_headers'
  | 'userinfo'
  | 'scheme'
  | 'http_version'
  | 'connect'
  | 'headers_timeout'
  | 'stream_idle'
  | 'overflow'
  | 'internal_error';

export interface Rejection {
  readonly status: number;
  readonly reason: RejectReason;
  readonly message: string;
  /** Envoy response flag for the x-meshlet-flags header. */
  readonly flag: string;
}

const rejection = (status: number, reason: RejectReason, message: string, flag = 'DPE'): Rejection => Object.freeze({ status, reason, message, flag });

export const REJECT = {
  tooManyHeaders: rejection(431, 'too_many_headers', 'too many request headers', 'RHL'),
  userinfo: rejection(400, 'userinfo', 'userinfo is not allowed in the request authority'),
  scheme: rejection(400, 'scheme', 'only http:// absolute-form targets are accepted on this listener'),
  httpVersion: rejection(400, 'http_version', 'unsupported HTTP version on an HTTP/1.1 listener'),
} as const;

/**
 * Request headers only the proxy writes. x-meshlet-peer is among them on the
 * outbound side only: the inbound side reads it from the calling sidecar.
 */
const OWNED = ['x-envoy-attempt-count', 'x-envoy-overloaded', 'x-envoy-upstream-service-time', FLAGS_HEADER] as const;
const PEER = 'x-meshlet-peer';

/** A rejection for `req`, or undefined when it may go on (proxy-owned headers already removed). */
export function checkRequest(req: IncomingMessage, maxHeaders: number, outbound: boolean): Rejection | undefined {
  if (req.rawHeaders.length > maxHeaders * 2) return REJECT.tooManyHeaders;
  if (req.httpVersionMajor !== 1) return REJECT.httpVersion;
  const url = req.url ?? '';
  if (url.charCodeAt(0) !== 47 /* '/' */ && url !== '*') {
    // absolute-form: scheme must be http, and its authority carries no userinfo.
    if (url.length < 7 || url.slice(0, 7).toLowerCase() !== 'http://') return REJECT.scheme;
    let end = url.length;
    for (let i = 7; i < url.length; i++) {
      const c = url.charCodeAt(i);
      if (c === 47 || c === 63 || c === 35) {
        end = i;
        break;
      }
    }
    if (url.lastIndexOf('@', end - 1) >= 7) return REJECT.userinfo;
  }
  const h = req.headers;
  const host = h.host;
  if (host !== undefined && host.indexOf('@') >= 0) return REJECT.userinfo;
  for (let i = 0; i < OWNED.length; i++) if (h[OWNED[i]!] !== undefined) delete h[OWNED[i]!];
  if (outbound && h[PEER] !== undefined) delete h[PEER];
  return undefined;
}

/** The raw reply for a rejection, written on the socket (no pipeline involved). */
export function rejectionResponse(r: Rejection): string {
  const body = r.message + '\n';
  return (
    `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Error'}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n` +
    `${FLAGS_HEADER}: ${r.flag}\r\nconnection: close\r\n\r\n${body}`
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
};
