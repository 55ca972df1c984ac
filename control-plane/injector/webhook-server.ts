// The injector's HTTPS endpoint: POST /inject (AdmissionReview in, AdmissionReview
// out), GET /healthz. Bodies are capped; anything malformed gets a 4xx, never a crash.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadAdmissionReview, reviewAdmission, type AdmissionContext } from './admission-review.js';
import type { PemPair } from './serving-cert.js';

export interface WebhookServerOptions extends AdmissionContext {
  readonly tls: PemPair;
  /** Largest AdmissionReview accepted (default 3 MiB: the API server's own request limit). */
  readonly maxBodyBytes?: number;
}

export class WebhookServer {
  readonly #server: Server;
  readonly #o: WebhookServerOptions;

  constructor(opts: WebhookServerOptions) {
    this.#o = opts;
    this.#server = createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, (req, res) => void this.#handle(req, res));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => resolve((this.#server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { status: 'ok' });
    if (path !== '/inject') return send(res, 404, { error: 'not found (POST /inject)' });
    if (req.method !== 'POST') return send(res, 405, { error: 'POST only' });
    const limit = this.#o.maxBodyBytes ?? 3 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of req as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > limit) return send(res, 413, { error: `body over ${limit} bytes` });
        chunks.push(c);
      }
    } catch {
      return; // client went away
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(res, 400, { error: 'body is not JSON' });
    }
    try {
      send(res, 200, await reviewAdmission(body, this.#o));
    } catch (err) {
      if (err instanceof BadAdmissionReview) return send(res, 400, { error: err.message });
      this.#o.log?.('warn', `injector: ${(err as Error).message}`);
      send(res, 500, { error: 'internal error' });
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
