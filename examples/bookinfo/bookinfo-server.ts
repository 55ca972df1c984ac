// A Bookinfo-like service: answers JSON about itself plus its peers' answers,
// and passes the tracing headers on, as every app in a mesh must (the proxies
// cannot tie an inbound request to the app's outbound calls by themselves).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BookinfoConfig, PeerCall } from './service-config.js';

/**
 * Headers an app copies from its inbound request to its outbound calls: the
 * tracing set, plus `end-user` as Istio's Bookinfo productpage forwards it, or
 * the sample `end-user: jason` route on reviews could never match.
 */
export const PROPAGATED_HEADERS: readonly string[] = [
  'end-user',
  'x-request-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  'traceparent',
  'tracestate',
];

export interface BookinfoServer {
  readonly port: number;
  readonly server: http.Server;
  /** Stops accepting, drops idle keep-alive sockets, resolves when closed. */
  close(): Promise<void>;
}

interface PeerResult {
  readonly ok: boolean;
  readonly value: unknown;
}

type Json = Record<string, unknown>;

function pickPropagated(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PROPAGATED_HEADERS) {
    const v = req.headers[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

function callPeer(cfg: BookinfoConfig, agent: http.Agent, peer: PeerCall, propagated: Record<string, string>): Promise<PeerResult> {
  const headers: Record<string, string> = { ...propagated, host: peer.url.host, accept: 'application/json' };
  // Explicit mode: the absolute-form request line tells the sidecar where to go.
  const target = peer.proxy ?? peer.url;
  const path = peer.proxy ? peer.url.href : `${peer.url.pathname}${peer.url.search}`;
  return new Promise((resolve) => {
    const req = http.request(
      { host: target.hostname, port: target.port || 80, method: 'GET', path, headers, agent, timeout: cfg.callTimeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => resolve({ ok: false, value: { error: err.message } }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text) as unknown;
          } catch {
            // Non-JSON (e.g. a proxy's local reply): keep the text.
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ ok: true, value: body });
          else resolve({ ok: false, value: { error: `status ${status}`, status, body } });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${cfg.callTimeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, value: { error: err.code ?? err.message, message: err.message } }));
    req.end();
  });
}

function send(res: http.ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

async function handle(cfg: BookinfoConfig, agent: http.Agent, rng: () => number, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.url === '/healthz') {
    send(res, 200, { status: 'ok', service: cfg.role, version: cfg.version, pod: cfg.pod });
    return;
  }
  const propagated = pickPropagated(req);
  const body: Json = { service: cfg.role, version: cfg.version, pod: cfg.pod, path: req.url ?? '/', trace: propagated };
  if (cfg.failRate > 0 && rng() < cfg.failRate) {
    await delay(cfg.delayMs);
    body['error'] = 'injected failure';
    send(res, cfg.failStatus, body);
    return;
  }
  let failed = false;
  const results = await Promise.all(cfg.peers.map((p) => callPeer(cfg, agent, p, propagated)));
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    const p = cfg.peers[i];
    if (r === undefined || p === undefined) continue;
    body[p.field] = r.value;
    if (!r.ok) failed = true;
  }
  await delay(cfg.delayMs);
  send(res, failed && cfg.propagateErrors ? 502 : 200, body);
}

/** Starts listening on cfg.host:cfg.port (0 = any free port). `rng` drives FAIL_RATE. */
export function startBookinfo(cfg: BookinfoConfig, rng: () => number = Math.random): Promise<BookinfoServer> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    // Drain any body so keep-alive connections stay usable.
    req.resume();
    handle(cfg, agent, rng, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { service: cfg.role, error: String(err) });
      else res.destroy();
    });
  });
  // Sidecars keep upstream connections open; do not cut them before they do.
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
            agent.destroy();
          }),
      });
    });
  });
}
