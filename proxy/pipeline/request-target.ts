// Request-target parsing and rewriting helpers for the pipeline: origin-form
// (`GET /p` + Host) and absolute-form (`GET http://host:port/p`, as sent to an
// explicit proxy), header operations, and the route's path rewrite.
import type { IncomingMessage } from 'node:http';
import type { HeaderOps } from '../config/model/index.js';
import { forwardableRequestHeaders } from '../listener/hop-by-hop.js';
import type { CompiledDestination, CompiledRoute } from '../snapshot/index.js';

interface TargetSink {
  readonly req: { url?: string | undefined; headers: { host?: string | undefined; ':authority'?: string | string[] | undefined } };
  readonly ex: { authority: string; path: string };
  authority: string;
  path: string;
  rawQuery: string;
  port: number;
}

/** Fills authority, path, query and port. Returns false for a target we cannot parse. */
export function parseTarget(s: TargetSink): boolean {
  let url = s.req.url ?? '';
  // HTTP/2 callers send :authority (Host only when translating from HTTP/1.1).
  const h2Authority = s.req.headers[':authority'];
  let authority = s.req.headers.host ?? (typeof h2Authority === 'string' ? h2Authority : '');
  if (url.charCodeAt(0) !== 47 /* '/' */) {
    // absolute-form: its authority overrides Host (RFC 9112 §3.2.2)
    const scheme = url.indexOf('://');
    if (scheme < 0) return url === '*' ? false : false;
    const slash = url.indexOf('/', scheme + 3);
    authority = slash < 0 ? url.slice(scheme + 3) : url.slice(scheme + 3, slash);
    url = slash < 0 ? '/' : url.slice(slash);
  }
  if (authority === '') return false;
  const q = url.indexOf('?');
  s.path = q < 0 ? url : url.slice(0, q);
  s.rawQuery = q < 0 ? '' : url.slice(q + 1);
  s.ex.path = s.path;
  s.ex.authority = authority;
  s.authority = authority;
  const colon = authority.lastIndexOf(':');
  s.port = colon > 0 && authority.indexOf(']') < colon ? Number(authority.slice(colon + 1)) || 80 : 80;
  return true;
}

export function applyHeaderOps(h: Record<string, string | string[]>, ops: HeaderOps): void {
  if (ops.set !== undefined) for (const k in ops.set) h[k] = ops.set[k]!;
  if (ops.add !== undefined) {
    for (const k in ops.add) {
      const prev = h[k];
      const v = ops.add[k]!;
      h[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  if (ops.remove !== undefined) for (const k of ops.remove) delete h[k];
}

interface UpstreamSink {
  readonly req: IncomingMessage;
  readonly ex: { readonly authority: string; readonly requestId: string };
  readonly path: string;
  readonly rawQuery: string;
  upstreamHeaders: Record<string, string | string[]>;
  upstreamPath: string;
}

/**
 * The upstream request's headers and path: hop-by-hop headers dropped, the
 * route's and destination's header operations, Host (or the rewritten
 * authority), x-forwarded-*, x-request-id, and the rewritten uri.
 */
export function buildUpstreamRequest(s: UpstreamSink, route: CompiledRoute, dest: CompiledDestination): void {
  const req = s.req;
  const h = forwardableRequestHeaders(req.headers);
  if (route.requestHeaders !== undefined) applyHeaderOps(h, route.requestHeaders);
  if (dest.requestHeaders !== undefined) applyHeaderOps(h, dest.requestHeaders);
  h['host'] = route.rewriteAuthority ?? s.ex.authority;
  const xff = req.headers['x-forwarded-for'];
  const remote = req.socket.remoteAddress ?? '';
  h['x-forwarded-for'] = typeof xff === 'string' && xff !== '' ? `${xff}, ${remote}` : remote;
  if (h['x-forwarded-proto'] === undefined) h['x-forwarded-proto'] = 'http';
  h['x-request-id'] = s.ex.requestId;
  s.upstreamHeaders = h;
  const path = route.pathRewrite !== null ? route.pathRewrite.rewrite(s.path) : s.path;
  s.upstreamPath = s.rawQuery !== '' ? `${path}?${s.rawQuery}` : path;
}
