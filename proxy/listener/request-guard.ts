// Checks a request head before the pipeline sees it, for what node:http's
// strict parser lets through but a sidecar must not: too many headers (node
// silently drops those past its own cap), userinfo in the authority, an
// absolute-form target with a scheme other than http, an HTTP/2.0 request line
// on this HTTP/1.1 listener. It also drops request headers the proxy owns, so
// a client can never make them look as if the proxy had written them.
// Cost on the hot path: a handful of property reads and one indexOf on Host.
import type { IncomingMessage } from 'node:http';
import { errors, type MeshletError } from '../errors/index.js';
import { FLAGS_HEADER } from '../errors/rescue.js';

/** Label of meshlet_downstream_rejections_total. */
export type RejectReason =
  | 'bad_request'
  | 'too_many_headers'
  | 'userinfo'
  | 'scheme'
  | 'http_version'
  | 'connect'
  | 'headers_timeout'
  | 'stream_idle'
  | 'internal_error';

export interface Rejection {
  readonly reason: RejectReason;
  readonly error: MeshletError;
}

const USERINFO: Rejection = { reason: 'userinfo', error: errors.badRequest('userinfo is not allowed in the request authority') };
const SCHEME: Rejection = { reason: 'scheme', error: errors.badRequest('only http:// absolute-form targets are accepted on this listener') };
const VERSION: Rejection = { reason: 'http_version', error: errors.badRequest('unsupported HTTP version on an HTTP/1.1 listener') };
const tooMany = new Map<number, Rejection>();
function tooManyHeaders(max: number): Rejection {
  let r = tooMany.get(max);
  if (r === undefined) tooMany.set(max, (r = { reason: 'too_many_headers', error: errors.tooManyHeaders(max) }));
  return r;
}

/**
 * Request headers only the proxy writes. x-meshlet-peer is among them on the
 * outbound side only: the inbound side reads it from the calling sidecar.
 */
const OWNED = ['x-envoy-attempt-count', 'x-envoy-overloaded', 'x-envoy-upstream-service-time', FLAGS_HEADER] as const;
const PEER = 'x-meshlet-peer';

/** A rejection for `req`, or undefined when it may go on (proxy-owned headers already removed). */
export function checkRequest(req: IncomingMessage, maxHeaders: number, outbound: boolean): Rejection | undefined {
  if (req.rawHeaders.length > maxHeaders * 2) return tooManyHeaders(maxHeaders);
  // HTTP/2 arrives only through the preface sniff (listener/h2c.ts) as node:http2's compatibility request.
  if (req.httpVersionMajor !== 1 && !(req.httpVersionMajor === 2 && 'stream' in req)) return VERSION;
  const url = req.url ?? '';
  if (url.charCodeAt(0) !== 47 /* '/' */ && url !== '*') {
    // absolute-form: scheme must be http, and its authority carries no userinfo.
    if (url.length < 7 || url.slice(0, 7).toLowerCase() !== 'http://') return SCHEME;
    let end = url.length;
    for (let i = 7; i < url.length; i++) {
      const c = url.charCodeAt(i);
      if (c === 47 || c === 63 || c === 35) {
        end = i;
        break;
      }
    }
    if (url.lastIndexOf('@', end - 1) >= 7) return USERINFO;
  }
  const h = req.headers;
  const host = h.host;
  if (host !== undefined && host.indexOf('@') >= 0) return USERINFO;
  for (let i = 0; i < OWNED.length; i++) if (h[OWNED[i]!] !== undefined) delete h[OWNED[i]!];
  if (outbound && h[PEER] !== undefined) delete h[PEER];
  return undefined;
}
