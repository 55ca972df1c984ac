// The route index must answer exactly what the linear first-match scan
// answers (Istio's semantics): checked on hand-picked orderings and on
// random tables and requests (fast-check, fixed seed).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RouteMatch, RouteModel, StringMatch } from '../../config/model/index.js';
import { compileRoutes, compileRoutesLinear, type RouteRequest, type RouteSource } from './route-table.js';

const route = (name: string, ...match: RouteMatch[]): RouteModel => ({ name, match, action: { kind: 'direct', status: 200 } });
const req = (over: Partial<RouteRequest> = {}): RouteRequest => ({ method: 'GET', path: '/', rawQuery: '', headers: {}, authority: 'svc:9080', port: 9080, ...over });
const prefix = (value: string): StringMatch => ({ kind: 'prefix', value });
const exact = (value: string): StringMatch => ({ kind: 'exact', value });

describe('route index keeps first-match order', () => {
  it.each<{ name: string; routes: RouteModel[]; r: Partial<RouteRequest>; want: number }>([
    { name: 'earlier prefix beats later exact', routes: [route('p', { uri: prefix('/a') }), route('e', { uri: exact('/a/b') })], r: { path: '/a/b' }, want: 0 },
    { name: 'earlier exact beats later prefix', routes: [route('e', { uri: exact('/a/b') }), route('p', { uri: prefix('/a') })], r: { path: '/a/b' }, want: 0 },
    { name: 'shorter earlier prefix beats longer later one', routes: [route('short', { uri: prefix('/a') }), route('long', { uri: prefix('/a/b') })], r: { path: '/a/b/c' }, want: 0 },
    { name: 'earlier regex beats later exact', routes: [route('re', { uri: { kind: 'regex', value: '/a.*' } }), route('e', { uri: exact('/a') })], r: { path: '/a' }, want: 0 },
    { name: 'earlier header route beats later prefix', routes: [route('h', { headers: { 'x-u': exact('j') } }), route('p', { uri: prefix('/') })], r: { headers: { 'x-u': 'j' } }, want: 0 },
    { name: 'earlier method route beats later exact', routes: [route('m', { method: exact('POST') }), route('e', { uri: exact('/') })], r: { method: 'POST' }, want: 0 },
    { name: 'catch-all earlier beats everything', routes: [route('all'), route('e', { uri: exact('/') })], r: {}, want: 0 },
    { name: 'prefix that fails its header falls through to a later exact', routes: [route('p', { uri: prefix('/a'), headers: { 'x-v': exact('2') } }), route('e', { uri: exact('/a') })], r: { path: '/a' }, want: 1 },
    { name: 'ignoreUriCase prefix earlier than case-sensitive exact', routes: [route('f', { uri: prefix('/API'), ignoreUriCase: true }), route('e', { uri: exact('/api/x') })], r: { path: '/api/x' }, want: 0 },
    { name: 'ignoreUriCase exact needs the whole path', routes: [route('f', { uri: exact('/Login'), ignoreUriCase: true }), route('all')], r: { path: '/LOGINx' }, want: 1 },
    { name: 'OR across clauses: a later clause of an earlier route', routes: [route('or', { uri: exact('/x') }, { uri: prefix('/a') }), route('e', { uri: exact('/a') })], r: { path: '/a' }, want: 0 },
    { name: 'no route', routes: [route('e', { uri: exact('/a') }), route('p', { uri: prefix('/b') })], r: { path: '/c' }, want: -1 },
  ])('$name', ({ routes, r, want }) => {
    expect(compileRoutesLinear(routes).match(req(r))).toBe(want);
    expect(compileRoutes(routes).match(req(r))).toBe(want);
  });

  it('10,000 prefix routes: each request finds its own route', () => {
    const routes = Array.from({ length: 10_000 }, (_, k) => route(`r${k}`, { uri: prefix(`/svc${k}/`), headers: { 'x-k': exact(`${k}`) } }));
    const table = compileRoutes(routes);
    for (const k of [0, 1, 9, 10, 99, 4999, 5000, 9999]) {
      expect(table.match(req({ path: `/svc${k}/items`, headers: { 'x-k': `${k}` } }))).toBe(k);
      expect(table.match(req({ path: `/svc${k}/items`, headers: { 'x-k': 'other' } }))).toBe(-1);
    }
  });
});

// Small alphabets so that random paths, prefixes and header values collide often.
const seg = fc.constantFrom('/', 'a', 'b', 'A', 'é');
const pathArb = fc.array(seg, { maxLength: 5 }).map((s) => s.join(''));
const value = fc.constantFrom('v1', 'v2', 'V1', '');
const stringMatch: fc.Arbitrary<StringMatch> = fc.oneof(
  pathArb.map(exact),
  pathArb.map(prefix),
  fc.constantFrom<StringMatch>({ kind: 'regex', value: '/a.*' }, { kind: 'regex', value: '[/ab]*' }, { kind: 'regex', value: '.*B' }),
);
const headerMatch: fc.Arbitrary<StringMatch> = fc.oneof(value.map(exact), value.map(prefix), fc.constant<StringMatch>({ kind: 'regex', value: 'v[0-9]' }));
const clause: fc.Arbitrary<RouteMatch> = fc.record(
  {
    uri: stringMatch,
    ignoreUriCase: fc.boolean(),
    method: fc.oneof(fc.constantFrom('GET', 'POST').map(exact), fc.constant<StringMatch>({ kind: 'regex', value: 'PUT|POST' })),
    headers: fc.dictionary(fc.constantFrom('x-a', 'X-B'), headerMatch, { maxKeys: 2 }),
    withoutHeaders: fc.dictionary(fc.constantFrom('x-a', 'x-c'), fc.oneof(fc.constant({ kind: 'present' as const }), value.map(exact)), { maxKeys: 1 }),
    queryParams: fc.dictionary(fc.constantFrom('q'), value.map(exact), { maxKeys: 1 }),
    port: fc.constantFrom(9080, 8080),
    sourceLabels: fc.constantFrom({ app: 'me' }, { app: 'other' }),
  },
  { requiredKeys: [] },
);
const routes = fc.array(fc.array(clause, { maxLength: 3 }), { minLength: 1, maxLength: 25 }).map((rs) => rs.map((m, i) => route(`r${i}`, ...m)));
const headerValue = fc.option(fc.oneof(value, fc.tuple(value, value).map(([a, b]) => [a, b])), { nil: undefined });
const request: fc.Arbitrary<RouteRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT'),
  path: pathArb,
  rawQuery: fc.constantFrom('', 'q=v1', 'q=v2&q=v1', '?q='),
  headers: fc.record({ 'x-a': headerValue, 'x-b': headerValue, 'x-c': headerValue }).map((h) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v;
    return out;
  }),
  authority: fc.constant('svc:9080'),
  port: fc.constantFrom(9080, 8080),
});
const source: RouteSource = { namespace: 'default', labels: { app: 'me' } };

describe('route index == linear first-match (property)', () => {
  it('random route tables and requests', () => {
    fc.assert(
      fc.property(routes, fc.array(request, { minLength: 1, maxLength: 30 }), (rs, reqs) => {
        const indexed = compileRoutes(rs, source);
        const linear = compileRoutesLinear(rs, source);
        for (const r of reqs) expect(indexed.match(r)).toBe(linear.match(r));
      }),
      { seed: 1717, numRuns: 800 },
    );
  });
});
