// The Prometheus listener (`--metrics-port`, default 15090 like Envoy's
// Istio stats port). Scrapes are synchronous on the event loop (prom-client
// #543), so keep series bounded; readiness is delegated to a callback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsSource } from './cluster-metrics.js';

export interface MetricsServerOptions {
  /** A registry, or the sum over --concurrency workers. */
  registry: MetricsSource;
  /** Default 15090; 0 picks a free port. */
  port?: number;
  /** Default 0.0.0.0 (Prometheus scrapes the pod IP). */
  host?: string;
  /** 200 on /healthz/ready when true, 503 otherwise. Default: always ready. */
  ready?: () => boolean | Promise<boolean>;
  /** Extra handler for paths this server does not know (e.g. /tap); return false to 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export class MetricsServer {
  private readonly server: Server;
  private constructor(server: Server) {
    this.server = server;
  }

  static async start(opts: MetricsServerOptions): Promise<MetricsServer> {
    const { registry } = opts;
    const ready = opts.ready ?? (() => true);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (req.method === 'GET' && (path === '/stats/prometheus' || path === '/metrics')) {
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
        );
      } else if (path === '/healthz/ready') {
        const answer = (ok: boolean): void => void res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
        const ok = ready();
        if (typeof ok === 'boolean') answer(ok);
        else ok.then(answer, () => answer(false));
      } else if (opts.fallback === undefined || !opts.fallback(req, res)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 15090, opts.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MetricsServer(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
