// Bare undici forwarder: node:http server in front of one undici Pool.
// `--variant stream` is the naive Pool.stream() forwarder the peers bench
// measured; `--variant dispatch` writes response chunks straight into the
// ServerResponse from a raw dispatch handler (see FINDINGS-undici.md).
// Knobs under investigation: --connections, --pipelining, --nodelay-server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { announce, HOP_BY_HOP, peerArgs } from './peer-args.js';

const args = peerArgs(process.argv.slice(2));
const upstream = args.get('upstream') ?? 'http://127.0.0.1:8080';
const variant = args.get('variant') ?? 'stream';
const connections = Number(args.get('connections') ?? '64');
const pipelining = Number(args.get('pipelining') ?? '1');
const listenPort = Number(args.get('port') ?? '0');

const pool = new Pool(upstream, { connections, pipelining, keepAliveTimeout: 60_000 });

function requestHeaders(req: http.IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const h = req.headers;
  for (const k in h) {
    const v = h[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}

function responseHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in h) {
    const v = h[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}

function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

// --- naive variant: Pool.stream() with a factory returning the ServerResponse.
function streamFactory(data: Dispatcher.StreamFactoryData<http.ServerResponse>): http.ServerResponse {
  const res = data.opaque;
  res.writeHead(data.statusCode, responseHeaders(data.headers));
  return res;
}

function forwardStream(req: http.IncomingMessage, res: http.ServerResponse): void {
  pool.stream(
    { path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: requestHeaders(req), body: hasBody(req) ? req : null, opaque: res },
    streamFactory,
    (err) => {
      if (err) { if (!res.headersSent) res.writeHead(502); res.end(); }
    },
  );
}

// --- dispatch variant: controller-API handler, backpressure via write()/drain.
class ForwardHandler implements Dispatcher.DispatchHandler {
  #res: http.ServerResponse;
  #controller: Dispatcher.DispatchController | null = null;
  #done = false;
  constructor(res: http.ServerResponse) {
    this.#res = res;
  }
  readonly onDrain = (): void => { this.#controller?.resume(); };
  readonly onClientClose = (): void => {
    if (!this.#done) { this.#done = true; this.#controller?.abort(new Error('client closed')); }
  };
  onRequestStart(controller: Dispatcher.DispatchController): void { this.#controller = controller; }
  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.#res.writeHead(statusCode, responseHeaders(headers));
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#res.write(chunk)) { controller.pause(); this.#res.once('drain', this.onDrain); }
  }
  onResponseEnd(): void { this.#done = true; this.#res.end(); }
  onResponseError(_c: Dispatcher.DispatchController, _err: Error): void {
    if (this.#done) return;
    this.#done = true;
    if (!this.#res.headersSent) this.#res.writeHead(502);
    this.#res.end();
  }
}

function forwardDispatch(req: http.IncomingMessage, res: http.ServerResponse): void {
  const handler = new ForwardHandler(res);
  res.on('close', handler.onClientClose);
  pool.dispatch({ path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: requestHeaders(req), body: hasBody(req) ? req : null }, handler);
}

const handler = variant === 'dispatch' ? forwardDispatch : forwardStream;
const server = http.createServer({ keepAliveTimeout: 60_000 }, handler);
server.listen(listenPort, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(); void pool.close(); process.exit(0); });
