// Admin endpoints (loopback by default, like Envoy's :15000): read-only views
// over the snapshot and upstream state; the only mutation is POST-only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SnapshotHolder } from '../snapshot/index.js';
import type { UpstreamRegistry } from '../upstream/registry.js';
import type { OutlierDetector } from '../upstream/outlier.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import { listenOn } from '../listener/bind-error.js';
import { json, text } from './reply.js';

export interface AdminDeps {
  readonly holder: SnapshotHolder;
  readonly registry: UpstreamRegistry;
  readonly outlier: OutlierDetector;
  readonly inbound: ClusterRuntime | undefined;
  readonly serverInfo: () => Record<string, unknown>;
  readonly ready: () => boolean;
  /** True once a drain started (readiness then answers 503 whatever the config). */
  readonly draining: () => boolean;
  /** Reports a handler that threw (answered 500; the process keeps serving). */
  readonly onHandlerError?: (err: unknown) => void;
  /** Live tap stream (observe/tap), mounted at GET /tap. */
  readonly tap?: (req: IncomingMessage, res: ServerResponse) => void;
  /** POST /quitquitquit: graceful shutdown (for Jobs, as Envoy/Istio). */
  readonly quit: () => void;
}

/** A --concurrency worker tells the primary where its private admin listens (node:cluster IPC). */
export const WORKER_ADMIN_MESSAGE = 'meshlet:worker-admin';

export function announceWorkerAdmin(port: number): void {
  process.send?.({ type: WORKER_ADMIN_MESSAGE, port });
}

/** `exclusive`: a worker's private admin port, not shared through node:cluster. */
export async function startAdmin(port: number, host: string, d: AdminDeps, exclusive = false): Promise<Server> {
  const server = createServer((req, res) => {
    try {
      handle(d, req, res);
    } catch (err) {
      // Nothing a client sends may take the process down: answer, report, keep serving.
      d.onHandlerError?.(err);
      if (!res.headersSent) text(res, 500, 'internal error\n');
      else res.destroy();
    }
  });
  await listenOn(server, port, host, '--admin-port', exclusive);
  return server;
}

/** The path of an origin-form target (anything else, e.g. absolute-form, is answered 404 by the switch). */
function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}

function handle(d: AdminDeps, req: IncomingMessage, res: ServerResponse): void {
  const get = req.method === 'GET' || req.method === 'HEAD';
  switch (pathOf(req.url)) {
    case '/ready':
    case '/healthz/ready':
      if (d.draining()) return text(res, 503, 'NOT READY: draining\n');
      return text(res, d.ready() ? 200 : 503, d.ready() ? 'LIVE\n' : 'NOT READY: no configuration applied yet\n');
    case '/config_dump':
      if (!get) return text(res, 405, 'GET only\n');
      return json(res, {
        version: d.holder.current?.version ?? null,
        applied_at: d.holder.appliedAt || null,
        last_rejection: d.holder.lastRejection ?? null,
        config: d.holder.current?.config ?? null,
      });
    case '/clusters':
      if (!get) return text(res, 405, 'GET only\n');
      return json(res, { clusters: [...d.registry.all(), ...(d.inbound ? [d.inbound] : [])].map((c) => clusterView(c, d.outlier)) });
    case '/server_info':
      return json(res, d.serverInfo());
    case '/tap':
      if (d.tap !== undefined && get) return d.tap(req, res);
      return text(res, 404, 'tap not available\n');
    case '/memory':
      // Envoy's /memory, in Node's terms: what the process holds and what of it is the JS heap.
      return json(res, memoryView());
    case '/quitquitquit':
      if (req.method !== 'POST') return text(res, 405, 'POST only\n');
      text(res, 200, 'OK\n');
      d.quit();
      return;
    default:
      return text(res, 404, 'admin endpoints: /ready /config_dump /clusters /server_info /memory /tap /stats/prometheus (metrics port) POST /quitquitquit\n');
  }
}

function memoryView(): Record<string, number> {
  const m = process.memoryUsage();
  return { rss: m.rss, heap_total: m.heapTotal, heap_used: m.heapUsed, external: m.external, array_buffers: m.arrayBuffers };
}

function clusterView(c: ClusterRuntime, outlier: OutlierDetector): Record<string, unknown> {
  return {
    name: c.name,
    service: c.destination.service,
    subset: c.destination.subset || null,
    discovery: c.model.discovery,
    lb: c.policy.lb.kind,
    active_requests: c.active,
    requests_total: c.requestsTotal,
    ejected: c.ejected,
    panic: c.panic,
    circuit_breakers: c.policy.connectionPool ?? null,
    outlier_detection: c.policy.outlierDetection ?? null,
    endpoints: c.endpoints.map((e) => ({
      address: e.id,
      labels: e.labels,
      weight: e.weight,
      available: e.available,
      state: e.state,
      breaker: outlier.stateOf(e),
      active_requests: e.active,
      requests_total: e.requestsTotal,
      errors_total: e.errorsTotal,
      connections: e.connections,
    })),
  };
}
