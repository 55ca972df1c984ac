// One `match[]` clause of a route, compiled once per snapshot: every present
// condition must hold (AND). test() allocates nothing on the common paths.
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteMatch } from '../../config/model/index.js';
import { compileStringMatch, type StringMatcher } from './string-matcher.js';
import type { RouteRequest } from './route-request.js';

interface NamedMatcher {
  readonly name: string;
  /** null: presence alone decides (withoutHeaders `{}` / kind `present`). */
  readonly matcher: StringMatcher | null;
}

/** One `match[]` entry; every present condition must hold (AND). */
export class CompiledMatch {
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
export class QueryCache {
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

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
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
