// The admin port of a --concurrency N sidecar, served by the primary: each
// view asks every worker's private admin (loopback, announced over IPC) and
// merges the answers (merge-views.ts), so /clusters, /config_dump,
// /server_info, /ready and /tap cover all workers instead of whichever
// worker happened to accept the connection.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOn } from '../listener/bind-error.js';
import { parseTapQuery } from '../observe/tap.js';
import { mergeClusters, mergeConfigDumps, mergeServerInfo, type WorkerRef } from './merge-views.js';
import { json, text } from './reply.js';

export interface WorkerAdmin extends WorkerRef {
  /** The worker's private admin port on 127.0.0.1. */
  readonly port: number;
}

export interface PrimaryAdminDeps {
  /** Workers that have announced their admin port, in worker-id order. */
  readonly workers: () => readonly WorkerAdmin[];
  /** --concurrency: readiness needs every one of them. */
  readonly concurrency: number;
  /** How long to wait for a worker's answer (5 s, as prom-client's cluster scrape). */
  readonly timeoutMs: number;
  readonly onHandlerError?: (err: unknown) => void;
}

interface WorkerAnswer {
  readonly status: number;
  readonly body: string;
}

/** One request to one worker's private admin; a timeout or error is a 503 answer, never a throw. */
function ask(w: WorkerAdmin, method: string, path: string, timeoutMs: number): Promise<WorkerAnswer> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: w.port, method, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve({ status: 503, body: `worker ${w.id}: ${err.message}\n` }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ status: 503, body: `worker ${w.id}: ${err.message}\n` }));
    req.end();
  });
}

/** True when every worker is up and answers /ready with 200 (the metrics port's /healthz/ready uses it too). */
export async function allWorkersReady(d: PrimaryAdminDeps): Promise<{ ok: boolean; why: string }> {
  const workers = d.workers();
  if (workers.length < d.concurrency) return { ok: false, why: `${workers.length} of ${d.concurrency} workers up` };
  const answers = await Promise.all(workers.map((w) => ask(w, 'GET', '/ready', d.timeoutMs)));
  const bad = answers.findIndex((a) => a.status !== 200);
  return bad < 0 ? { ok: true, why: '' } : { ok: false, why: `worker ${workers[bad]!.id}: ${answers[bad]!.body.trim()}` };
}

export async function startPrimaryAdmin(port: number, host: string, d: PrimaryAdminDeps): Promise<Server> {
  const server = createServer((req, res) => {
    handle(d, req, res).catch((err: unknown) => {
      d.onHandlerError?.(err);
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  await listenOn(server, port, host, '--admin-port');
  return server;
}

async function handle(d: PrimaryAdminDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const get = req.method === 'GET' || req.method === 'HEAD';
  switch (path) {
    case '/ready':
    case '/healthz/ready': {
      const r = await allWorkersReady(d);
      return text(res, r.ok ? 200 : 503, r.ok ? 'LIVE\n' : `NOT READY: ${r.why}\n`);
    }
    case '/config_dump':
    case '/clusters':
    case '/server_info': {
      if (!get && path !== '/server_info') return text(res, 405, 'GET only\n');
      const workers = d.workers();
      const answers = await Promise.all(workers.map((w) => ask(w, 'GET', path, d.timeoutMs)));
      const failed = answers.findIndex((a) => a.status !== 200);
      if (failed >= 0) return text(res, 503, `worker ${workers[failed]!.id} did not answer ${path}: ${answers[failed]!.body.trim()}\n`);
      const views = answers.map((a) => JSON.parse(a.body) as Record<string, unknown>);
      if (path === '/clusters') return json(res, mergeClusters(views));
      if (path === '/config_dump') return json(res, mergeConfigDumps(views, workers));
      return json(res, mergeServerInfo(views, workers, d.concurrency));
    }
    case '/tap':
      if (!get) return text(res, 404, 'tap not available\n');
      return tapAll(d, url, res);
    case '/quitquitquit': {
      if (req.method !== 'POST') return text(res, 405, 'POST only\n');
      // Every worker drains and exits; the primary leaves when the last one has.
      await Promise.all(d.workers().map((w) => ask(w, 'POST', '/quitquitquit', d.timeoutMs)));
      return text(res, 200, 'OK\n');
    }
    default:
      return text(res, 404, 'admin endpoints: /ready /config_dump /clusters /server_info /tap /stats/prometheus (metrics port) POST /quitquitquit\n');
  }
}

/**
 * GET /tap over all workers: one NDJSON stream of whole lines from every
 * worker's tap, ended after the filter's `max` events in total, when every
 * worker's stream has ended, or when the client leaves.
 */
function tapAll(d: PrimaryAdminDeps, url: string, res: ServerResponse): void {
  const filter = parseTapQuery(url);
  if (typeof filter === 'string') return text(res, 400, filter + '\n');
  const workers = d.workers();
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  let sent = 0;
  let open = workers.length;
  const upstreams = workers.map((w) => {
    const up = request({ host: '127.0.0.1', port: w.port, method: 'GET', path: url }, (wr) => {
      let partial = '';
      wr.setEncoding('utf8');
      wr.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          if (sent >= filter.max || res.writableEnded) return;
          res.write(line + '\n');
          if (++sent >= filter.max) finish();
        }
      });
      wr.on('end', () => done());
      wr.on('error', () => done());
    });
    up.on('error', () => done());
    up.end();
    return up;
  });
  function done(): void {
    if (--open <= 0) finish();
  }
  function finish(): void {
    if (!res.writableEnded) res.end();
    for (const up of upstreams) up.destroy();
  }
  if (open === 0) finish();
  res.on('close', finish);
}
