import type { IncomingHttpHeaders } from 'node:http';
import type { RouteMatch, RouteModel } from '../../config/model/index.js';
import { compileStringMatch, type StringMatcher } from './string-matcher.js';

/** What route matching reads from a request. */
export interface RouteRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Query string without the leading `?` (a leading `?` is tolerated); '' when none. */
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
  /** Authority (Host / :authority) exactly as sent, port included when sent. */
  readonly authority: string;
  /** Port the request arrived for (the service port). */
  readonly port: number;
}

export interface RouteTable {
  /** Number of routes compiled. */
  readonly size: number;
  /** Index of the first matching route, or -1 (Envoy's NR: no route). */
  match(req: RouteRequest): number;
}

interface NamedMatcher {
  readonly name: string;
  /** null: presence alone decides (withoutHeaders `{}` / kind `present`). */
  readonly matcher: StringMatcher | null;
}

/** One `match[]` entry; every present condition must hold (AND). */
class CompiledMatch {
  readonly uri: StringMatcher | null;
  readonly authority: StringMatcher | null;
  readonly method: StringMatcher | null;
  readonly port: number;
  readonly headers: readonly NamedMatcher[];
  readonly without: readonly NamedMatcher[];
  readonly query: readonly NamedMatcher[];

  constructor(m: RouteMatch) {
    this.uri = m.uri ? compileStringMatch(m.uri, m.ignoreUriCase === true) : null;
    this.authority = m.authority ? compileStringMatch(m.authority) : null;
    this.method = m.method ? compileStringMatch(m.method) : null;
    this.port = m.port ?? 0;
    this.headers = named(m.headers, true);
    this.without = namedWithout(m.withoutHeaders);
    // Query names are case-sensitive; header names are not.
    this.query = named(m.queryParams, false);
  }

  test(req: RouteRequest, query: QueryCache): boolean {
    if (this.port !== 0 && req.port !== this.port) return false;
    if (this.uri !== null && !this.uri.matches(req.path)) return false;
    if (this.method !== null && !this.method.matches(req.method)) return false;
    if (this.authority !== null && !this.authority.matches(req.authority)) return false;
    const headers = req.headers;
    for (let i = 0; i < this.headers.length; i++) {
      const h = this.headers[i]!;
      const v = headerValue(headers, h.name);
      if (v === undefined || (h.matcher !== null && !h.matcher.matches(v))) return false;
    }
    for (let i = 0; i < this.without.length; i++) {
      const h = this.without[i]!;
      const v = headerValue(headers, h.name);
      if (v !== undefined && (h.matcher === null || h.matcher.matches(v))) return false;
    }
    if (this.query.length > 0) {
      const params = query.parse(req.rawQuery);
      for (let i = 0; i < this.query.length; i++) {
        const q = this.query[i]!;
        const v = params.get(q.name);
        if (v === undefined || (q.matcher !== null && !q.matcher.matches(v))) return false;
      }
    }
    return true;
  }
}

/**
 * Parsed query parameters of the last raw query seen. Parsing happens only
 * when a route with queryParams is actually tested, at most once per distinct
 * query string: the same string (even from a later request) reuses the parse.
 * match() is synchronous, so one cache per table is safe on the event loop.
 * First occurrence of a name wins; names and values are compared as sent
 * (not percent-decoded), like Envoy's route query matcher.
 */
class QueryCache {
  private raw: string | undefined = undefined;
  private readonly params = new Map<string, string>();

  parse(raw: string): ReadonlyMap<string, string> {
    if (raw === this.raw) return this.params;
    this.raw = raw;
    const params = this.params;
    params.clear();
    const len = raw.length;
    let pos = len > 0 && raw.charCodeAt(0) === 63 /* ? */ ? 1 : 0;
    while (pos < len) {
      let end = raw.indexOf('&', pos);
      if (end < 0) end = len;
      if (end > pos) {
        const eq = raw.indexOf('=', pos);
        const name = eq < 0 || eq > end ? raw.slice(pos, end) : raw.slice(pos, eq);
        if (!params.has(name)) params.set(name, eq < 0 || eq > end ? '' : raw.slice(eq + 1, end));
      }
      pos = end + 1;
    }
    return params;
  }
}

/** Who is asking: the sidecar's own workload, for Istio's sourceLabels / sourceNamespace. */
export interface RouteSource {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Istio's sourceMatchHTTP: the clause's labels are a subset of the proxy's, and the namespace agrees. */
function appliesTo(m: RouteMatch, source: RouteSource | undefined): boolean {
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== source?.namespace) return false;
  if (m.sourceLabels !== undefined) {
    for (const k in m.sourceLabels) if (source?.labels[k] !== m.sourceLabels[k]) return false;
  }
  return true;
}

class CompiledRouteTable implements RouteTable {
  /** null: every clause was for other workloads, so the route never matches here. */
  private readonly routes: readonly (readonly CompiledMatch[] | null)[];
  private readonly query = new QueryCache();

  constructor(routes: readonly RouteModel[], source: RouteSource | undefined) {
    this.routes = routes.map((r) => {
      const mine = r.match.filter((m) => appliesTo(m, source));
      return r.match.length > 0 && mine.length === 0 ? null : mine.map((m) => new CompiledMatch(m));
    });
  }

  get size(): number {
    return this.routes.length;
  }

  match(req: RouteRequest): number {
    const routes = this.routes;
    for (let r = 0; r < routes.length; r++) {
      const clauses = routes[r]!;
      if (clauses === null) continue;
      if (clauses.length === 0) return r;
      for (let c = 0; c < clauses.length; c++) if (clauses[c]!.test(req, this.query)) return r;
    }
    return -1;
  }
}

/**
 * Compile a virtual host's routes (in order) into a first-match table:
 * OR across a route's `match[]` entries, AND within one, empty list = match all.
 *
 * - uri: against the path without query; `ignoreUriCase` folds exact/prefix
 *   (ASCII) and makes regexes case-insensitive.
 * - authority: against the authority as sent, port included, case-sensitive
 *   (Istio documents authority values as case-sensitive and hands them to
 *   Envoy as an `:authority` header match, which sees the raw value).
 * - method: case-sensitive, as Istio documents.
 * - headers: first value when Node gives an array; absent header = no match.
 * - withoutHeaders: absent header passes; present header fails when the entry
 *   is `present` or its matcher matches the value.
 * - port: the port the request arrived for.
 * - sourceLabels / sourceNamespace: decided here, once, against `source` (the
 *   sidecar's own workload); a clause for other workloads is left out, and a
 *   route left with no clause never matches. Without a source, such clauses
 *   never apply (fail closed).
 * Throws (at build) on a regex RE2 cannot compile.
 */
export function compileRoutes(routes: readonly RouteModel[], source?: RouteSource): RouteTable {
  return new CompiledRouteTable(routes, source);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : v === undefined ? undefined : v[0];
}

function named(rec: RouteMatch['headers'], lowerCase: boolean): NamedMatcher[] {
  if (rec === undefined) return [];
  return Object.keys(rec).map((name) => ({ name: lowerCase ? name.toLowerCase() : name, matcher: compileStringMatch(rec[name]!) }));
}

function namedWithout(rec: RouteMatch['withoutHeaders']): NamedMatcher[] {
  if (rec === undefined) return [];
  return Object.keys(rec).map((name) => {
    const spec = rec[name]!;
    return { name: name.toLowerCase(), matcher: spec.kind === 'present' ? null : compileStringMatch(spec) };
  });
}
