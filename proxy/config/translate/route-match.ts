// Istio HTTPMatchRequest → RouteMatch. Header names are lower-cased (HTTP
// header names are case-insensitive and Node lower-cases them on arrival).
// An empty Istio StringMatch (`{}`) means "present" for headers and "absent"
// for withoutHeaders.
//
// What a sidecar can decide once, here, it decides here (as Istio's pilot
// does per proxy): a clause whose `gateways` do not include `mesh` never
// applies to a sidecar, and `scheme` is always `http` on a sidecar's
// plaintext listeners. `sourceLabels` / `sourceNamespace` depend on the
// sidecar and go into the model for it to evaluate.

import { re2js } from '../validate/re2js-lazy.js';
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

/** The gateway name Istio gives every sidecar. */
export const MESH_GATEWAY = 'mesh';
/** The scheme of every request a sidecar's listeners receive (plaintext HTTP). */
const SIDECAR_SCHEME = 'http';

function matchesStatic(m: StringMatch, value: string): boolean {
  switch (m.kind) {
    case 'exact':
      return value === m.value;
    case 'prefix':
      return value.startsWith(m.value);
    case 'regex':
      return re2js().compile(m.value).testExact(value);
  }
}

/** `null`: the clause can never apply to a sidecar (so it is left out). */
export function toRouteMatch(m: IstioHTTPMatchRequest): RouteMatch | null {
  if (m.gateways !== undefined && m.gateways.length > 0 && !m.gateways.includes(MESH_GATEWAY)) return null;
  const scheme = m.scheme && toStringMatch(m.scheme);
  if (scheme && !matchesStatic(scheme, SIDECAR_SCHEME)) return null;
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
  // Istio: a clause naming gateways (here: `mesh`) ignores its source conditions.
  const byGateway = m.gateways !== undefined && m.gateways.length > 0;
  if (!byGateway && m.sourceLabels !== undefined && Object.keys(m.sourceLabels).length > 0) out.sourceLabels = { ...m.sourceLabels };
  if (!byGateway && m.sourceNamespace !== undefined && m.sourceNamespace !== '') out.sourceNamespace = m.sourceNamespace;
  return out;
}
