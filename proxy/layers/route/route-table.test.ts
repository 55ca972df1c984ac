import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { RouteMatch, RouteModel } from '../../config/model/index.js';
import { compileRoutes, type RouteRequest } from './route-table.js';

const route = (name: string, ...match: RouteMatch[]): RouteModel => ({
  name,
  match,
  action: { kind: 'direct', status: 200 },
});

const req = (over: Partial<RouteRequest> & { headers?: IncomingHttpHeaders } = {}): RouteRequest => ({
  method: 'GET',
  path: '/',
  rawQuery: '',
  headers: {},
  authority: 'reviews:9080',
  port: 9080,
  ...over,
});

describe('compileRoutes: single conditions', () => {
  it.each<{ name: string; m: RouteMatch; hit: Partial<RouteRequest>; miss: Partial<RouteRequest> }>([
    { name: 'uri exact', m: { uri: { kind: 'exact', value: '/a' } }, hit: { path: '/a' }, miss: { path: '/a/b' } },
    { name: 'uri prefix', m: { uri: { kind: 'prefix', value: '/api' } }, hit: { path: '/api/x' }, miss: { path: '/ap' } },
    { name: 'uri regex', m: { uri: { kind: 'regex', value: '/u/[0-9]+' } }, hit: { path: '/u/42' }, miss: { path: '/u/42/x' } },
    { name: 'ignoreUriCase exact', m: { uri: { kind: 'exact', value: '/Login' }, ignoreUriCase: true }, hit: { path: '/LOGIN' }, miss: { path: '/logout' } },
    { name: 'ignoreUriCase prefix', m: { uri: { kind: 'prefix', value: '/api' }, ignoreUriCase: true }, hit: { path: '/API/v1' }, miss: { path: '/ap' } },
    { name: 'case-sensitive uri by default', m: { uri: { kind: 'exact', value: '/Login' } }, hit: { path: '/Login' }, miss: { path: '/login' } },
    { name: 'method', m: { method: { kind: 'exact', value: 'POST' } }, hit: { method: 'POST' }, miss: { method: 'GET' } },
    { name: 'method regex', m: { method: { kind: 'regex', value: 'PUT|PATCH' } }, hit: { method: 'PATCH' }, miss: { method: 'POST' } },
    { name: 'authority exact (as sent, with port)', m: { authority: { kind: 'exact', value: 'reviews:9080' } }, hit: { authority: 'reviews:9080' }, miss: { authority: 'reviews' } },
    { name: 'authority prefix', m: { authority: { kind: 'prefix', value: 'reviews' } }, hit: { authority: 'reviews.default:9080' }, miss: { authority: 'ratings' } },
    { name: 'port', m: { port: 9080 }, hit: { port: 9080 }, miss: { port: 8080 } },
    { name: 'header exact', m: { headers: { 'end-user': { kind: 'exact', value: 'jason' } } }, hit: { headers: { 'end-user': 'jason' } }, miss: { headers: { 'end-user': 'json' } } },
    { name: 'header absent = no match', m: { headers: { 'end-user': { kind: 'prefix', value: '' } } }, hit: { headers: { 'end-user': '' } }, miss: { headers: {} } },
    { name: 'header array uses first', m: { headers: { 'x-a': { kind: 'exact', value: '1' } } }, hit: { headers: { 'x-a': ['1', '2'] } }, miss: { headers: { 'x-a': ['2', '1'] } } },
    { name: 'header name case-folded', m: { headers: { 'X-Canary': { kind: 'exact', value: 'y' } } }, hit: { headers: { 'x-canary': 'y' } }, miss: { headers: {} } },
    { name: 'header regex on cookie', m: { headers: { cookie: { kind: 'regex', value: '^(.*?; ?)?(user=jason)(;.*)?$' } } }, hit: { headers: { cookie: 'a=1; user=jason' } }, miss: { headers: { cookie: 'user=bob' } } },
    { name: 'withoutHeaders present', m: { withoutHeaders: { 'x-debug': { kind: 'present' } } }, hit: { headers: {} }, miss: { headers: { 'x-debug': '' } } },
    { name: 'withoutHeaders matcher: different value passes', m: { withoutHeaders: { 'x-env': { kind: 'exact', value: 'prod' } } }, hit: { headers: { 'x-env': 'dev' } }, miss: { headers: { 'x-env': 'prod' } } },
    { name: 'withoutHeaders matcher: absent passes', m: { withoutHeaders: { 'x-env': { kind: 'exact', value: 'prod' } } }, hit: { headers: {} }, miss: { headers: { 'x-env': 'prod' } } },
    { name: 'query exact', m: { queryParams: { v: { kind: 'exact', value: '2' } } }, hit: { rawQuery: 'a=1&v=2' }, miss: { rawQuery: 'v=3' } },
    { name: 'query first occurrence wins', m: { queryParams: { v: { kind: 'exact', value: '2' } } }, hit: { rawQuery: 'v=2&v=3' }, miss: { rawQuery: 'v=3&v=2' } },
    { name: 'query flag without value', m: { queryParams: { debug: { kind: 'exact', value: '' } } }, hit: { rawQuery: 'debug' }, miss: { rawQuery: 'debugx' } },
    { name: 'query regex, leading ?', m: { queryParams: { id: { kind: 'regex', value: '[0-9]+' } } }, hit: { rawQuery: '?id=77' }, miss: { rawQuery: '?id=7a' } },
    { name: 'query name is case-sensitive', m: { queryParams: { ID: { kind: 'exact', value: '1' } } }, hit: { rawQuery: 'ID=1' }, miss: { rawQuery: 'id=1' } },
  ])('$name', ({ m, hit, miss }) => {
    const table = compileRoutes([route('r', m)]);
    expect(table.match(req(hit))).toBe(0);
    expect(table.match(req(miss))).toBe(-1);
  });
});

describe('compileRoutes: combining', () => {
  const table = compileRoutes([
    route('and', { uri: { kind: 'prefix', value: '/a' }, headers: { 'x-v': { kind: 'exact', value: '2' } } }),
    route('or', { uri: { kind: 'exact', value: '/b' } }, { method: { kind: 'exact', value: 'DELETE' } }),
    route('shadowed', { uri: { kind: 'exact', value: '/b' } }),
    route('catch-all'),
    route('never'),
  ]);
  it.each<{ name: string; r: Partial<RouteRequest>; want: number }>([
    { name: 'AND: both hold', r: { path: '/a1', headers: { 'x-v': '2' } }, want: 0 },
    { name: 'AND: one fails → falls through to catch-all', r: { path: '/a1', headers: { 'x-v': '1' } }, want: 3 },
    { name: 'OR: first entry', r: { path: '/b' }, want: 1 },
    { name: 'OR: second entry', r: { path: '/zzz', method: 'DELETE' }, want: 1 },
    { name: 'first match wins over later identical route', r: { path: '/b' }, want: 1 },
    { name: 'empty match list matches everything', r: { path: '/anything' }, want: 3 },
  ])('$name', ({ r, want }) => {
    expect(table.match(req(r))).toBe(want);
  });

  it('size and empty table', () => {
    expect(table.size).toBe(5);
    expect(compileRoutes([]).match(req())).toBe(-1);
  });

  it('query is parsed lazily, only when a route with queryParams is tested, and reused per query string', () => {
    const t = compileRoutes([
      route('q', { uri: { kind: 'prefix', value: '/q' }, queryParams: { v: { kind: 'exact', value: '1' } } }),
      route('rest'),
    ]);
    // Not needed → a hostile query string is never looked at.
    let reads = 0;
    const trap = req({ path: '/other' });
    Object.defineProperty(trap, 'rawQuery', { get: () => (reads++, 'v=1') });
    expect(t.match(trap)).toBe(1);
    expect(reads).toBe(0);
    // Needed → read, and the answer changes with the query string (no stale cache).
    expect(t.match(req({ path: '/q', rawQuery: 'v=1' }))).toBe(0);
    expect(t.match(req({ path: '/q', rawQuery: 'v=2' }))).toBe(1);
    expect(t.match(req({ path: '/q', rawQuery: 'v=1' }))).toBe(0);
  });
});

describe('compileRoutes: source conditions (evaluated per sidecar, as Istio does)', () => {
  const routes = [
    route('from-productpage', { sourceLabels: { app: 'productpage' } }),
    route('from-shop', { sourceNamespace: 'shop', uri: { kind: 'prefix', value: '/a' } }, { uri: { kind: 'prefix', value: '/b' } }),
    route('rest'),
  ];
  it('a clause whose labels are a subset of the sidecar labels applies; others are left out', () => {
    expect(compileRoutes(routes, { namespace: 'default', labels: { app: 'productpage', version: 'v1' } }).match(req())).toBe(0);
    // Before: a match holding only sourceLabels became {} and matched every caller.
    expect(compileRoutes(routes, { namespace: 'default', labels: { app: 'reviews' } }).match(req())).toBe(2);
  });
  it('sourceNamespace compares the sidecar namespace; other clauses of the route still apply', () => {
    const other = { namespace: 'default', labels: {} };
    const shop = { namespace: 'shop', labels: {} };
    expect(compileRoutes(routes, shop).match(req({ path: '/a' }))).toBe(1);
    expect(compileRoutes(routes, other).match(req({ path: '/a' }))).toBe(2);
    expect(compileRoutes(routes, other).match(req({ path: '/b' }))).toBe(1);
  });
  it('without a known source, source-bound clauses never apply (fail closed)', () => {
    expect(compileRoutes(routes).match(req())).toBe(2);
  });
});
