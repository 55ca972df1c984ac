// Protocol detection from a connection's first bytes (pure; the socket side is
// connection-dispatch.ts). Like Envoy's http_inspector + tls_inspector: an
// HTTP/1.x request line, the HTTP/2 prior-knowledge preface, a TLS ClientHello
// (with its SNI), or anything else = opaque TCP. `more` means the bytes so far
// are a prefix of something recognisable: wait for more (bounded by the
// detection timeout and MAX_SNIFF_BYTES).

import type { DetectedProtocol } from '../exchange/index.js';

export type Detection = DetectedProtocol | 'more';

/** The HTTP/2 connection preface (RFC 9113 §3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A TLS record is at most 16 KiB + header; a ClientHello larger than one record is treated as TLS without SNI. */
export const MAX_SNIFF_BYTES = 16 * 1024 + 5;

// RFC 9110 methods plus the WebDAV ones Envoy's http_inspector also accepts.
const METHODS = [
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH', 'MKCALENDAR', 'ACL',
].map((m) => Buffer.from(m + ' ', 'latin1'));

function prefixState(buf: Buffer, word: Buffer): 'match' | 'prefix' | 'no' {
  const n = Math.min(buf.length, word.length);
  for (let i = 0; i < n; i++) if (buf[i] !== word[i]) return 'no';
  return buf.length >= word.length ? 'match' : 'prefix';
}

export function detectProtocol(buf: Buffer): Detection {
  if (buf.length === 0) return 'more';
  const first = buf[0]!;
  if (first === 0x16) {
    // TLS handshake record: 0x16, major version 3, minor 0..4 (SSL 3.0 .. TLS 1.3 record layer).
    if (buf.length < 3) return buf.length === 2 && buf[1] !== 3 ? 'tcp' : 'more';
    return buf[1] === 3 && buf[2]! <= 4 ? 'tls' : 'tcp';
  }
  if (first === 0x50 /* P */) {
    const h2 = prefixState(buf, H2_PREFACE);
    if (h2 === 'match') return 'http2';
    if (h2 === 'prefix') return 'more';
  }
  let waiting = false;
  for (const m of METHODS) {
    const s = prefixState(buf, m);
    if (s === 'match') return 'http1';
    if (s === 'prefix') waiting = true;
  }
  return waiting ? 'more' : 'tcp';
}

/**
 * The server name of a TLS ClientHello: a string, null when the hello has no
 * SNI (or is malformed, or spans more than one record), undefined when more
 * bytes are needed to tell.
 */
export function readSni(buf: Buffer): string | null | undefined {
  if (buf.length < 5) return undefined;
  if (buf[0] !== 0x16) return null;
  const recordEnd = 5 + buf.readUInt16BE(3);
  if (buf.length < recordEnd) return recordEnd > MAX_SNIFF_BYTES ? null : undefined;
  let p = 5;
  if (buf[p] !== 1) return null; // not a ClientHello
  const helloEnd = Math.min(recordEnd, p + 4 + buf.readUIntBE(p + 1, 3));
  p += 4 + 2 + 32; // handshake header, client_version, random
  if (p >= helloEnd) return null;
  p += 1 + buf[p]!; // session_id
  if (p + 2 > helloEnd) return null;
  p += 2 + buf.readUInt16BE(p); // cipher_suites
  if (p + 1 > helloEnd) return null;
  p += 1 + buf[p]!; // compression_methods
  if (p + 2 > helloEnd) return null;
  const extEnd = Math.min(helloEnd, p + 2 + buf.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extEnd) return null;
    if (type === 0) {
      // server_name_list: length, then entries of (type, length, name); type 0 = host_name.
      let q = p + 2;
      const listEnd = Math.min(p + len, p + 2 + buf.readUInt16BE(p));
      while (q + 3 <= listEnd) {
        const nameType = buf[q]!;
        const nameLen = buf.readUInt16BE(q + 1);
        q += 3;
        if (q + nameLen > listEnd) return null;
        if (nameType === 0) return buf.toString('latin1', q, q + nameLen).toLowerCase();
        q += nameLen;
      }
      return null;
    }
    p += len;
  }
  return null;
}
