import type { RouteMatch, RouteModel } from '../../config/model/index.js';
import { CompiledMatch, QueryCache } from './compiled-match.js';
import { RouteIndex, type IndexedClause } from './route-index.js';
import type { RouteRequest } from './route-request.js';

export type { RouteRequest } from './route-request.js';

export interface RouteTable {
  /** Number of routes compiled. */
  readonly size: number;
  /** Index of the first matching route, or -1 (Envoy's NR: no route). */
  match(req: RouteRequest): number;
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

/** The clauses of each route that apply on this sidecar; null: none do (the route never matches here). */
function applicableClauses(routes: readonly RouteModel[], source: RouteSource | undefined): (readonly IndexedClause[] | null)[] {
  return routes.map((r) => {
    const mine = r.match.filter((m) => appliesTo(m, source));
    return r.match.length > 0 && mine.length === 0 ? null : mine.map((m) => ({ model: m, compiled: new CompiledMatch(m) }));
  });
}

const ALWAYS = new CompiledMatch({});

class IndexedRouteTable implements RouteTable {
  readonly size: number;
  private readonly index: RouteIndex;
  private readonly query = new QueryCache();

  constructor(routes: readonly RouteModel[], source: RouteSource | undefined) {
    this.size = routes.length;
    this.index = new RouteIndex(applicableClauses(routes, source), ALWAYS);
  }

  match(req: RouteRequest): number {
    return this.index.match(req, this.query);
  }
}

/** The reference first-match scan: every route in order, every clause in order. */
class LinearRouteTable implements RouteTable {
  readonly size: number;
  private readonly routes: readonly (readonly IndexedClause[] | null)[];
  private readonly query = new QueryCache();

  constructor(routes: readonly RouteModel[], source: RouteSource | undefined) {
    this.size = routes.length;
    this.routes = applicableClauses(routes, source);
  }

  match(req: RouteRequest): number {
    const routes = this.routes;
    for (let r = 0; r < routes.length; r++) {
      const clauses = routes[r]!;
      if (clauses === null) continue;
      if (clauses.length === 0) return r;
      for (let c = 0; c < clauses.length; c++) if (clauses[c]!.compiled.test(req, this.query)) return r;
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
 *
 * Lookup goes through a RouteIndex (route-index.ts): exact and prefix paths,
 * exact header values and methods pre-select the candidate routes, so a
 * 10,000-route host costs about what a 10-route one does.
 */
export function compileRoutes(routes: readonly RouteModel[], source?: RouteSource): RouteTable {
  return new IndexedRouteTable(routes, source);
}

/**
 * The same table matched by scanning every route in order: the definition
 * the index must agree with (property test) and the bench's "before".
 */
export function compileRoutesLinear(routes: readonly RouteModel[], source?: RouteSource): RouteTable {
  return new LinearRouteTable(routes, source);
}
