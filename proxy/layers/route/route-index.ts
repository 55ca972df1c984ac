// First-match route lookup that does not scan every route. Built once per
// snapshot from a virtual host's clauses (in route order).
//
// Each clause is filed under one key that is a *necessary* condition of the
// clause: its exact uri (a Map), its uri prefix (a character trie), its
// ignoreUriCase exact/prefix (a second trie walked with ASCII folding), else
// an exact header value, else an exact method; a clause with none of these
// (regex uri, no uri, match-all routes) goes to a plain list. A request then
// visits only the lists whose key it satisfies, each in route order, and the
// full clause test still decides. The answer is the smallest route index over
// all visited lists, so a later exact route never beats an earlier prefix
// route that also matches: Istio's first-match order is kept exactly (a
// property test compares it with the linear scan over random tables).
import type { RouteMatch } from '../../config/model/index.js';
import { headerValue, type CompiledMatch, type QueryCache } from './compiled-match.js';
import type { RouteRequest } from './route-request.js';

/** A clause filed under one key; every list is in route order. */
interface Entry {
  readonly route: number;
  readonly clause: CompiledMatch;
}

class TrieNode {
  /** Clauses whose prefix ends here (the request path went through this node). */
  prefix: Entry[] | null = null;
  /** Clauses whose exact uri ends here (the request path ended at this node). */
  exact: Entry[] | null = null;
  /** The only child while there is one: chains of single children need no table. */
  private onlyCode = -1;
  private only: TrieNode | null = null;
  /** Two or more children: ASCII by code (paths are ASCII on the wire), the rest in a Map. */
  private ascii: (TrieNode | undefined)[] | null = null;
  private other: Map<number, TrieNode> | null = null;

  child(code: number): TrieNode | undefined {
    if (code === this.onlyCode) return this.only!;
    if (code < 128) return this.ascii === null ? undefined : this.ascii[code];
    return this.other === null ? undefined : this.other.get(code);
  }

  childOrAdd(code: number): TrieNode {
    const found = this.child(code);
    if (found !== undefined) return found;
    const n = new TrieNode();
    if (this.only === null && this.ascii === null && this.other === null) {
      this.onlyCode = code;
      this.only = n;
      return n;
    }
    if (this.only !== null) {
      const c = this.onlyCode;
      const o = this.only;
      this.onlyCode = -1;
      this.only = null;
      this.put(c, o);
    }
    this.put(code, n);
    return n;
  }

  private put(code: number, n: TrieNode): void {
    if (code < 128) {
      this.ascii ??= new Array<TrieNode | undefined>(128).fill(undefined);
      this.ascii[code] = n;
    } else {
      (this.other ??= new Map()).set(code, n);
    }
  }
}

/** One clause of a route: its model (to pick the key) and its compiled test. */
export interface IndexedClause {
  readonly model: RouteMatch;
  readonly compiled: CompiledMatch;
}

export class RouteIndex {
  private readonly exact = new Map<string, Entry[]>();
  private readonly prefixes = new TrieNode();
  private readonly folded = new TrieNode();
  private hasFolded = false;
  private readonly headerNames: string[] = [];
  private readonly headerValues: Map<string, Entry[]>[] = [];
  private readonly methods = new Map<string, Entry[]>();
  private readonly rest: Entry[] = [];
  private readonly none: number;

  /**
   * @param routes per route: its clauses, `[]` for a route that matches
   *   everything, null for a route that never matches on this sidecar
   * @param always the clause a match-all route is filed with (tests true)
   */
  constructor(routes: readonly (readonly IndexedClause[] | null)[], always: CompiledMatch) {
    this.none = routes.length;
    for (let r = 0; r < routes.length; r++) {
      const clauses = routes[r];
      if (clauses === null || clauses === undefined) continue;
      if (clauses.length === 0) this.rest.push({ route: r, clause: always });
      for (const c of clauses) this.file({ route: r, clause: c.compiled }, c.model);
    }
  }

  private file(e: Entry, m: RouteMatch): void {
    const uri = m.uri;
    if (uri !== undefined && uri.kind !== 'regex') {
      if (m.ignoreUriCase === true) {
        this.hasFolded = true;
        const node = walkOrAdd(this.folded, uri.value.toLowerCase());
        if (uri.kind === 'exact') node.exact = push(node.exact, e);
        else node.prefix = push(node.prefix, e);
      } else if (uri.kind === 'exact') {
        this.exact.set(uri.value, push(this.exact.get(uri.value) ?? null, e));
      } else {
        const node = walkOrAdd(this.prefixes, uri.value);
        node.prefix = push(node.prefix, e);
      }
      return;
    }
    const headers = m.headers;
    if (headers !== undefined) {
      for (const name of Object.keys(headers)) {
        const spec = headers[name]!;
        if (spec.kind !== 'exact') continue;
        const lower = name.toLowerCase();
        let i = this.headerNames.indexOf(lower);
        if (i < 0) {
          i = this.headerNames.push(lower) - 1;
          this.headerValues.push(new Map());
        }
        const byValue = this.headerValues[i]!;
        byValue.set(spec.value, push(byValue.get(spec.value) ?? null, e));
        return;
      }
    }
    if (m.method !== undefined && m.method.kind === 'exact') {
      this.methods.set(m.method.value, push(this.methods.get(m.method.value) ?? null, e));
      return;
    }
    this.rest.push(e);
  }

  /** Index of the first route (in table order) with a matching clause, or -1. */
  match(req: RouteRequest, query: QueryCache): number {
    const path = req.path;
    let best = this.none;
    best = firstIn(this.exact.get(path), req, query, best);
    let node: TrieNode | undefined = this.prefixes;
    best = firstIn(node.prefix, req, query, best);
    for (let i = 0; i < path.length; i++) {
      node = node.child(path.charCodeAt(i));
      if (node === undefined) break;
      best = firstIn(node.prefix, req, query, best);
    }
    if (this.hasFolded) best = this.matchFolded(req, query, best);
    const headers = req.headers;
    for (let h = 0; h < this.headerNames.length; h++) {
      const v = headerValue(headers, this.headerNames[h]!);
      if (v !== undefined) best = firstIn(this.headerValues[h]!.get(v), req, query, best);
    }
    best = firstIn(this.methods.get(req.method), req, query, best);
    best = firstIn(this.rest, req, query, best);
    return best === this.none ? -1 : best;
  }

  /** The ignoreUriCase trie: request characters folded as FoldedMatcher folds them (ASCII only). */
  private matchFolded(req: RouteRequest, query: QueryCache, best: number): number {
    const path = req.path;
    let node: TrieNode | undefined = this.folded;
    best = firstIn(node.prefix, req, query, best);
    let i = 0;
    for (; i < path.length; i++) {
      let c = path.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      node = node.child(c);
      if (node === undefined) break;
      best = firstIn(node.prefix, req, query, best);
    }
    if (node !== undefined && i === path.length) best = firstIn(node.exact, req, query, best);
    return best;
  }
}

/** The first entry (route order) whose clause matches, if it comes before `best`; else `best`. */
function firstIn(list: readonly Entry[] | null | undefined, req: RouteRequest, query: QueryCache, best: number): number {
  if (list === null || list === undefined) return best;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (e.route >= best) return best;
    if (e.clause.test(req, query)) return e.route;
  }
  return best;
}

function walkOrAdd(root: TrieNode, key: string): TrieNode {
  let node = root;
  for (let i = 0; i < key.length; i++) node = node.childOrAdd(key.charCodeAt(i));
  return node;
}

/** Appends in route order (clauses are filed in route order, so a push keeps it sorted). */
function push(list: Entry[] | null, e: Entry): Entry[] {
  if (list === null) return [e];
  list.push(e);
  return list;
}
