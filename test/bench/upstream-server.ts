// The fast upstream every target forwards to: node:http keep-alive with
// precomputed bodies, so the upstream costs as little CPU as possible and the
// proxy under test stays the bottleneck.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface UpstreamServer {
  readonly port: number;
  /** Requests answered since start (mirror targets use it to prove traffic arrives). */
  requests(): number;
  close(): Promise<void>;
}

/** The request shapes the benchmark sends; path → response body size. */
export const UPSTREAM_PATHS = {
  small: '/small',
  kib1: '/1k',
  kib64: '/64k',
  post16: '/post',
} as const;

export type BodySize = keyof typeof UPSTREAM_PATHS;

const SMALL = Buffer.from('{"ok":true,"n":12345}'); // ~20 B
const KIB1 = Buffer.alloc(1024, 0x61);
const KIB64 = Buffer.alloc(64 * 1024, 0x62);
const POST_REPLY = Buffer.from('{"received":true}');

function bodyFor(url: string | undefined): Buffer {
  switch (url) {
    case '/1k': return KIB1;
    case '/64k': return KIB64;
    case '/post': return POST_REPLY;
    default: return SMALL;
  }
}

/** Starts the upstream on 127.0.0.1:0 (or `port`). */
export async function startUpstream(port = 0): Promise<UpstreamServer> {
  let count = 0;
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    count++;
    const body = bodyFor(req.url);
    if (req.method === 'POST' || req.method === 'PUT') {
      // Drain the request body before answering, like a real handler would.
      req.on('data', noop);
      req.on('end', () => reply(res, body));
      return;
    }
    reply(res, body);
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 61_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  return {
    port: addr.port,
    requests: () => count,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function reply(res: http.ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
}

function noop(): void { /* discard */ }
