// Request-target parsing and rewriting helpers for the pipeline: origin-form
// (`GET /p` + Host) and absolute-form (`GET http://host:port/p`, as sent to an
// explicit proxy), header operations, and Istio's uri rewrite.
import type { HeaderOps } from '../config/model/index.js';
import type { CompiledRoute } from '../snapshot/index.js';

interface TargetSink {
  readonly req: { url?: string | undefined; headers: { host?: string | undefined } };
  readonly ex: { authority: string; path: string };
  authority: string;
  path: string;
  rawQuery: string;
  port: number;
}

/** Fills authority, path, query and port. Returns false for a target we cannot parse. */
export function parseTarget(s: TargetSink): boolean {
  let url = s.req.url ?? '';
  let authority = s.req.headers.host ?? '';
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

/**
 * Istio's rewrite.uri: when the route matched on a uri prefix, that prefix is
 * replaced; otherwise the whole path is replaced.
 */
export function rewritePath(route: CompiledRoute, path: string): string {
  const to = route.rewriteUri!;
  for (const m of route.model.match) {
    const u = m.uri;
    if (u !== undefined && u.kind === 'prefix' && path.startsWith(u.value)) return to + path.slice(u.value.length);
  }
  return to;
}
