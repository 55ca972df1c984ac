import { describe, expect, it } from 'vitest';
import type { HashKey } from '../../config/model/index.js';
import { generatedCookie, requestHash } from './hash-key.js';
import { hashString } from './hash-string.js';

describe('requestHash', () => {
  it.each<{ name: string; key: HashKey; headers?: Record<string, string | string[]>; ip?: string; query?: string; want: string | undefined }>([
    { name: 'header', key: { kind: 'header', name: 'x-user' }, headers: { 'x-user': 'alice' }, want: 'alice' },
    { name: 'header array → first', key: { kind: 'header', name: 'x-user' }, headers: { 'x-user': ['bob', 'eve'] }, want: 'bob' },
    { name: 'header absent', key: { kind: 'header', name: 'x-user' }, headers: {}, want: undefined },
    { name: 'cookie only one', key: { kind: 'cookie', name: 'sid' }, headers: { cookie: 'sid=abc' }, want: 'abc' },
    { name: 'cookie middle', key: { kind: 'cookie', name: 'sid' }, headers: { cookie: 'a=1; sid=abc ; b=2' }, want: 'abc' },
    { name: 'cookie name is a suffix of another', key: { kind: 'cookie', name: 'sid' }, headers: { cookie: 'xsid=1; sid=2' }, want: '2' },
    { name: 'cookie name is a prefix of another', key: { kind: 'cookie', name: 'sid' }, headers: { cookie: 'sidx=1' }, want: undefined },
    { name: 'cookie quoted', key: { kind: 'cookie', name: 'sid' }, headers: { cookie: 'sid="q"' }, want: 'q' },
    { name: 'cookie empty = absent', key: { kind: 'cookie', name: 'sid' }, headers: { cookie: 'sid=' }, want: undefined },
    { name: 'no cookie header', key: { kind: 'cookie', name: 'sid' }, headers: {}, want: undefined },
    { name: 'source ip', key: { kind: 'source_ip' }, ip: '10.1.2.3', want: '10.1.2.3' },
    { name: 'source ip unknown', key: { kind: 'source_ip' }, want: undefined },
    { name: 'query', key: { kind: 'query', name: 'u' }, query: 'a=1&u=carol&u=dave', want: 'carol' },
    { name: 'query with ?', key: { kind: 'query', name: 'u' }, query: '?u=carol', want: 'carol' },
    { name: 'query flag', key: { kind: 'query', name: 'u' }, query: 'x=1&u', want: '' },
    { name: 'query prefix name', key: { kind: 'query', name: 'u' }, query: 'uu=1', want: undefined },
    { name: 'query absent', key: { kind: 'query', name: 'u' }, query: '', want: undefined },
  ])('$name', ({ key, headers, ip, query, want }) => {
    expect(requestHash(key, headers ?? {}, ip, query ?? '')).toBe(want === undefined ? undefined : hashString(want));
  });
});

describe('generatedCookie', () => {
  it.each<{ name: string; key: HashKey; re: RegExp | undefined }>([
    { name: 'ttl + path', key: { kind: 'cookie', name: 'sid', path: '/', ttlMs: 60000 }, re: /^sid=[0-9a-f]{16}; Path=\/; Max-Age=60; HttpOnly$/ },
    { name: 'session cookie', key: { kind: 'cookie', name: 'sid', ttlMs: 0 }, re: /^sid=[0-9a-f]{16}; HttpOnly$/ },
    { name: 'no ttl → passive', key: { kind: 'cookie', name: 'sid' }, re: undefined },
    { name: 'not a cookie key', key: { kind: 'source_ip' }, re: undefined },
  ])('$name', ({ key, re }) => {
    const g = generatedCookie(key);
    if (re === undefined) return expect(g).toBeUndefined();
    expect(g!.setCookie).toMatch(re);
    // the next request, carrying the cookie, hashes to the same value
    const pair = g!.setCookie.split(';')[0]!;
    expect(requestHash(key, { cookie: `other=1; ${pair}` }, undefined, '')).toBe(g!.hash);
    expect(generatedCookie(key)!.setCookie).not.toBe(g!.setCookie);
  });
});
