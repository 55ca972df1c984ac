import { describe, expect, it } from 'vitest';
import type { RouteModel } from '../../config/model/index.js';
import { compilePathRewrite } from './rewrite-path.js';

const route = (match: RouteModel['match'], rewrite: RouteModel['rewrite']): RouteModel => ({
  name: 'r',
  match,
  action: { kind: 'direct', status: 200 },
  ...(rewrite ? { rewrite } : {}),
});

describe('compilePathRewrite', () => {
  it('is null without a path rewrite', () => {
    expect(compilePathRewrite(route([], { authority: 'x' }))).toBeNull();
  });
  const cases: [string, RouteModel['match'], string, string, string][] = [
    ['prefix match: prefix replaced', [{ uri: { kind: 'prefix', value: '/old' } }], '/new', '/old/a', '/new/a'],
    ['exact match: whole path replaced', [{ uri: { kind: 'exact', value: '/old' } }], '/new', '/old', '/new'],
    ['regex match: whole path replaced', [{ uri: { kind: 'regex', value: '/o.d' } }], '/new', '/old', '/new'],
    // Istio builds `prefix: /` for a route without match, and for a clause without uri.
    ['no match at all: the leading / replaced', [], '/v2/', '/a/b', '/v2/a/b'],
    ['no match, rewrite without trailing slash', [], '/v2', '/a', '/v2a'],
    ['clause without uri', [{ headers: { x: { kind: 'exact', value: '1' } } }], '/v2/', '/a', '/v2/a'],
    ['second clause matched', [{ uri: { kind: 'prefix', value: '/x' } }, { uri: { kind: 'prefix', value: '/old' } }], '/n', '/old/z', '/n/z'],
    ['ignoreUriCase prefix', [{ uri: { kind: 'prefix', value: '/old' }, ignoreUriCase: true }], '/new', '/OLD/a', '/new/a'],
  ];
  it.each(cases)('%s', (_n, match, to, path, want) => {
    expect(compilePathRewrite(route(match, { uri: to }))!.rewrite(path)).toBe(want);
  });

  it('uriRegexRewrite replaces every match, with \\1 group references', () => {
    const rw = compilePathRewrite(route([], { uriRegex: { match: '^/service/([^/]+)(/.*)$', substitution: '\\2/instance/\\1' } }))!;
    expect(rw.rewrite('/service/foo/v1/api')).toBe('/v1/api/instance/foo');
    const all = compilePathRewrite(route([], { uriRegex: { match: 'o', substitution: '0$' } }))!;
    expect(all.rewrite('/foo/boo')).toBe('/f0$0$/b0$0$');
    expect(all.rewrite('/xyz')).toBe('/xyz');
  });
});
