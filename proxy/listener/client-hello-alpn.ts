// Whether a TLS ClientHello offers a given ALPN protocol (RFC 7301). The
// inbound side uses it the way Istio's sidecar does: a ClientHello offering
// `istio-peer-exchange` is mesh mTLS to terminate; any other TLS belongs to
// the app. Pure; the buffer holds the whole first record (readSni said so).

/** True when the ClientHello in `buf` lists `protocol` in its ALPN extension. */
export function offersAlpn(buf: Buffer, protocol: string): boolean {
  if (buf.length < 5 || buf[0] !== 0x16) return false;
  const recordEnd = Math.min(buf.length, 5 + buf.readUInt16BE(3));
  let p = 5;
  if (p + 4 > recordEnd || buf[p] !== 1) return false;
  const helloEnd = Math.min(recordEnd, p + 4 + buf.readUIntBE(p + 1, 3));
  p += 4 + 2 + 32; // handshake header, client_version, random
  if (p >= helloEnd) return false;
  p += 1 + buf[p]!; // session_id
  if (p + 2 > helloEnd) return false;
  p += 2 + buf.readUInt16BE(p); // cipher_suites
  if (p + 1 > helloEnd) return false;
  p += 1 + buf[p]!; // compression_methods
  if (p + 2 > helloEnd) return false;
  const extEnd = Math.min(helloEnd, p + 2 + buf.readUInt16BE(p));
  p += 2;
  const want = Buffer.from(protocol, 'latin1');
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extEnd) return false;
    if (type === 16) {
      // protocol_name_list: total length, then (length byte, name) entries.
      const listEnd = Math.min(p + len, p + 2 + buf.readUInt16BE(p));
      let q = p + 2;
      while (q < listEnd) {
        const n = buf[q]!;
        q += 1;
        if (q + n > listEnd) return false;
        if (n === want.length && buf.compare(want, 0, n, q, q + n) === 0) return true;
        q += n;
      }
      return false;
    }
    p += len;
  }
  return false;
}
