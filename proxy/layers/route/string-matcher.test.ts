import { describe, expect, it } from 'vitest';
import { compileStringMatch, type StringMatchSpec } from './string-matcher.js';

describe('compileStringMatch', () => {
  it.each<{ spec: StringMatchSpec; ignoreCase?: boolean; value: string; want: boolean }>([
    { spec: { kind: 'exact', value: '/a' }, value: '/a', want: true },
    { spec: { kind: 'exact', value: '/a' }, value: '/A', want: false },
    { spec: { kind: 'exact', value: '/a' }, value: '/ab', want: false },
    { spec: { kind: 'exact', value: '/Ab' }, ignoreCase: true, value: '/aB', want: true },
    { spec: { kind: 'exact', value: '/ab' }, ignoreCase: true, value: '/abc', want: false },
    { spec: { kind: 'prefix', value: '/api/' }, value: '/api/v1', want: true },
    { spec: { kind: 'prefix', value: '/api/' }, value: '/API/v1', want: false },
    { spec: { kind: 'prefix', value: '/api/' }, ignoreCase: true, value: '/API/v1', want: true },
    { spec: { kind: 'prefix', value: '/api/' }, ignoreCase: true, value: '/AP', want: false },
    { spec: { kind: 'prefix', value: '' }, value: 'anything', want: true },
    // regex is a full match, like RE2 in Istio
    { spec: { kind: 'regex', value: '/v[0-9]+' }, value: '/v12', want: true },
    { spec: { kind: 'regex', value: '/v[0-9]+' }, value: '/v12/x', want: false },
    { spec: { kind: 'regex', value: '/v[0-9]+' }, value: 'x/v12', want: false },
    { spec: { kind: 'regex', value: 'a|b' }, value: 'ab', want: false },
    { spec: { kind: 'regex', value: 'a|b' }, value: 'b', want: true },
    { spec: { kind: 'regex', value: '/V1' }, ignoreCase: true, value: '/v1', want: true },
    { spec: { kind: 'regex', value: '(?i)jason' }, value: 'JASON', want: true },
    { spec: { kind: 'regex', value: '(?P<v>v\\d)' }, value: 'v1', want: true },
    // RE2 syntax JavaScript lacks
    { spec: { kind: 'regex', value: '/v[[:digit:]]+' }, value: '/v42', want: true },
    { spec: { kind: 'regex', value: '/v[[:digit:]]+' }, value: '/vx', want: false },
    { spec: { kind: 'regex', value: '\\pN+' }, value: '٣42', want: true },
    { spec: { kind: 'regex', value: '\\pL+' }, value: 'héllo', want: true },
    { spec: { kind: 'regex', value: '(?i)/API/.*' }, value: '/api/x', want: true },
    { spec: { kind: 'present' }, value: '', want: true },
  ])('$spec.kind $spec.value ignoreCase=$ignoreCase on "$value" → $want', ({ spec, ignoreCase, value, want }) => {
    expect(compileStringMatch(spec, ignoreCase).matches(value)).toBe(want);
  });

  it('rejects a broken regex at compile time', () => {
    expect(() => compileStringMatch({ kind: 'regex', value: '(' })).toThrow(SyntaxError);
  });

  it('rejects JavaScript-only syntax with a reason naming it', () => {
    expect(() => compileStringMatch({ kind: 'regex', value: '/(?=admin)x' })).toThrow(/lookahead\/lookbehind is not RE2/);
    expect(() => compileStringMatch({ kind: 'regex', value: '/(?<!a)x' })).toThrow(/lookahead\/lookbehind is not RE2/);
    expect(() => compileStringMatch({ kind: 'regex', value: '(a)\\1' })).toThrow(/backreferences are not RE2/);
  });

  it('matches a catastrophic-backtracking pattern in linear time', () => {
    const m = compileStringMatch({ kind: 'regex', value: '/redos/(a+)+' });
    const evil = '/redos/' + 'a'.repeat(5000) + '!';
    // With a backtracking engine 30 characters already take seconds; RE2 answers at once.
    expect(m.matches(evil)).toBe(false);
    expect(m.matches('/redos/aaaa')).toBe(true);
  });
});
