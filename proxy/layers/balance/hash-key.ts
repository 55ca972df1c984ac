import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { HashKey } from '../../config/model/index.js';
import { hashStringRange, hashString } from './hash-string.js';

/**
 * The consistent-hash key of a request, or undefined when the request does not
 * carry it (the picker then falls back to a random endpoint, as Envoy does).
 *
 * - header: the first value; the name must be lower-case (Node lower-cases
 *   incoming header names; lower-casing here would allocate per request).
 * - cookie: the named cookie from the `cookie` header, hashed in place; an
 *   empty value counts as absent (Envoy's rule, so a cleared cookie re-pins).
 * - source_ip: the peer address as Node reports it.
 * - query: the first `name=` parameter of the raw query, hashed as sent (not
 *   percent-decoded); `?name` with no `=` hashes the empty string.
 */
export function requestHash(
  key: HashKey,
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
  rawQuery: string,
): number | undefined {
  switch (key.kind) {
    case 'header': {
      const v = headers[key.name];
      if (v === undefined) return undefined;
      if (typeof v === 'string') return hashString(v);
      const first = v[0];
      return first === undefined ? undefined : hashString(first);
    }
    case 'cookie': {
      const c = headers.cookie;
      return c === undefined ? undefined : cookieHash(c, key.name);
    }
    case 'source_ip':
      return remoteAddress === undefined ? undefined : hashString(remoteAddress);
    case 'query':
      return queryParamHash(rawQuery, key.name);
  }
}

/** Hash of cookie `name` within a `cookie` header (`a=1; b=2`), without splitting it. */
function cookieHash(header: string, name: string): number | undefined {
  const len = header.length;
  const nl = name.length;
  let pos = 0;
  while (pos < len) {
    while (pos < len && (header.charCodeAt(pos) === 32 || header.charCodeAt(pos) === 9)) pos++;
    let end = header.indexOf(';', pos);
    if (end < 0) end = len;
    if (header.startsWith(name, pos) && header.charCodeAt(pos + nl) === 61 /* = */) {
      let vs = pos + nl + 1;
      let ve = end;
      while (ve > vs && (header.charCodeAt(ve - 1) === 32 || header.charCodeAt(ve - 1) === 9)) ve--;
      // RFC 6265 allows a DQUOTE-wrapped value; the quotes are not part of it.
      if (ve - vs >= 2 && header.charCodeAt(vs) === 34 && header.charCodeAt(ve - 1) === 34) {
        vs++;
        ve--;
      }
      return ve > vs ? hashStringRange(header, vs, ve) : undefined;
    }
    pos = end + 1;
  }
  return undefined;
}

function queryParamHash(rawQuery: string, name: string): number | undefined {
  const len = rawQuery.length;
  const nl = name.length;
  let pos = len > 0 && rawQuery.charCodeAt(0) === 63 /* ? */ ? 1 : 0;
  while (pos < len) {
    let end = rawQuery.indexOf('&', pos);
    if (end < 0) end = len;
    if (rawQuery.startsWith(name, pos)) {
      const after = pos + nl;
      if (after === end) return hashStringRange(rawQuery, after, after);
      if (rawQuery.charCodeAt(after) === 61 /* = */) return hashStringRange(rawQuery, after + 1, end);
    }
    pos = end + 1;
  }
  return undefined;
}

export interface GeneratedCookie {
  /** Hash of the generated value: use it for this request's pick. */
  readonly hash: number;
  /** Full `Set-Cookie` value to add to the response. */
  readonly setCookie: string;
}

/**
 * Envoy's generated cookie: when the hash key is a cookie with a `ttlMs` and
 * the request did not carry it (requestHash returned undefined), make up a
 * random value, hash the request by it, and have the response set it, so the
 * client's next requests stick to the same endpoint. ttlMs 0 makes a session
 * cookie (no Max-Age). Path is emitted only when configured, like Envoy.
 * Returns undefined when the key is not a cookie key with a ttl.
 * Runs once per client, not per request, so its allocations are fine.
 */
export function generatedCookie(key: HashKey): GeneratedCookie | undefined {
  if (key.kind !== 'cookie' || key.ttlMs === undefined) return undefined;
  const value = randomBytes(8).toString('hex');
  let setCookie = `${key.name}=${value}`;
  if (key.path !== undefined && key.path !== '') setCookie += `; Path=${key.path}`;
  if (key.ttlMs > 0) setCookie += `; Max-Age=${Math.ceil(key.ttlMs / 1000)}`;
  setCookie += '; HttpOnly';
  return { hash: hashString(value), setCookie };
}
