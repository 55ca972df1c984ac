// Istio HTTPMatchRequest → RouteMatch. Header names are lower-cased (HTTP
// header names are case-insensitive and Node lower-cases them on arrival).
// An empty Istio StringMatch (`{}`) means "present" for headers and "absent"
// for withoutHeaders.

import type { RouteMatch, StringMatch } from '../model/index.js';
import type { IstioHTTPMatchRequest, IstioStringMatch } from '../istio/index.js';

/** Undefined for `{}` (no matcher given). */
export function toStringMatch(m: IstioStringMatch): StringMatch | undefined {
  if (m.exact !== undefined) return { kind: 'exact', value: m.exact };
  if (m.prefix !== undefined) return { kind: 'prefix', value: m.prefix };
  if (m.regex !== undefined) return { kind: 'regex', value: m.regex };
  return undefined;
}

// Any present value has the empty prefix, so `{}` in `headers` becomes that.
const ANY_VALUE: StringMatch = { kind: 'prefix', value: '' };

export function toRouteMatch(m: IstioHTTPMatchRequest): RouteMatch {
  const out: { -readonly [K in keyof RouteMatch]: RouteMatch[K] } = {};
  const uri = m.uri && toStringMatch(m.uri);
  if (uri) out.uri = uri;
  const authority = m.authority && toStringMatch(m.authority);
  if (authority) out.authority = authority;
  const method = m.method && toStringMatch(m.method);
  if (method) out.method = method;
  if (m.headers) {
    const headers: Record<string, StringMatch> = {};
    for (const [name, sm] of Object.entries(m.headers)) headers[name.toLowerCase()] = toStringMatch(sm) ?? ANY_VALUE;
    out.headers = headers;
  }
  if (m.withoutHeaders) {
    const without: Record<string, StringMatch | { readonly kind: 'present' }> = {};
    for (const [name, sm] of Object.entries(m.withoutHeaders)) without[name.toLowerCase()] = toStringMatch(sm) ?? { kind: 'present' };
    out.withoutHeaders = without;
  }
  if (m.queryParams) {
    const query: Record<string, StringMatch> = {};
    for (const [name, sm] of Object.entries(m.queryParams)) query[name] = toStringMatch(sm) ?? ANY_VALUE;
    out.queryParams = query;
  }
  if (m.ignoreUriCase !== undefined) out.ignoreUriCase = m.ignoreUriCase;
  if (m.port !== undefined) out.port = m.port;
  return out;
}
