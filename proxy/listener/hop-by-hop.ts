// Hop-by-hop header hygiene (RFC 9110 §7.6.1). These headers describe one
// connection and must never be forwarded; undici also refuses several of them.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP: Record<string, true> = Object.assign(Object.create(null) as Record<string, true>, {
  connection: true,
  'keep-alive': true,
  'proxy-connection': true,
  'proxy-authorization': true,
  'proxy-authenticate': true,
  te: true,
  trailer: true,
  'transfer-encoding': true,
  upgrade: true,
  // undici rejects `expect`; 100-continue is answered hop by hop by node:http.
  expect: true,
  // the upstream Host comes from the route (authority) and is set explicitly.
  host: true,
});

/**
 * Copies request headers minus hop-by-hop ones (and those named by `Connection`)
 * into a fresh object that the proxy owns and may add to.
 */
export function forwardableRequestHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in h) {
    // HOP: connection-specific; ':' pseudo-headers of an HTTP/2 caller become the upstream request line.
    if (HOP[k] === true || k.charCodeAt(0) === 58) continue;
    const v = h[k];
    if (v !== undefined) out[k] = v;
  }
  const conn = h.connection;
  if (conn !== undefined && conn !== 'keep-alive' && conn !== 'close') dropConnectionTokens(out, conn);
  return out;
}

/** Response headers from the upstream minus hop-by-hop ones. Mutates and returns `h` (undici hands us a fresh object). */
export function forwardableResponseHeaders(h: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const conn = h.connection;
  if (typeof conn === 'string' && conn !== 'keep-alive' && conn !== 'close') dropConnectionTokens(h, conn);
  for (const k in h) if (HOP[k] === true && k !== 'host') delete h[k];
  return h as OutgoingHttpHeaders;
}

function dropConnectionTokens(h: Record<string, unknown>, conn: string): void {
  for (const token of conn.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && name !== 'keep-alive' && name !== 'close') delete h[name];
  }
}
