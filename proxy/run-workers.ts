// `meshlet proxy --concurrency N` (N > 1): the primary process. It forks N
// workers that share the outbound and inbound listeners (node:cluster hands
// connections out), and owns the two ports that must answer for the whole
// sidecar: the metrics port (each scrape sums every worker's registry, so
// counters never jump back) and the admin port (each view merges every
// worker's). It handles no traffic itself and loads none of the proxy.
//
// Only the modules it needs are imported (not the observe/admin barrels), to
// keep the primary's own memory small: it is paid once per pod.
import cluster, { type Worker } from 'node:cluster';
import { WORKER_ADMIN_MESSAGE } from './admin/index.js';
import { allWorkersReady, startPrimaryAdmin, type PrimaryAdminDeps, type WorkerAdmin } from './admin/primary-admin.js';
import { BindError } from './listener/bind-error.js';
import { clusterMetricsSource } from './observe/cluster-metrics.js';
import { MetricsServer } from './observe/metrics-server.js';

export interface WorkersOptions {
  readonly concurrency: number;
  readonly adminPort: number;
  readonly adminAddress: string;
  /** -1: no metrics listener. */
  readonly metricsPort: number;
  readonly metricsAddress: string;
}

/** How long the primary waits for a worker's admin or metrics answer. */
const WORKER_ANSWER_TIMEOUT_MS = 5000;

export async function runWorkers(o: WorkersOptions): Promise<number> {
  const admins = new Map<number, WorkerAdmin>();
  cluster.on('message', (w: Worker, msg: unknown) => {
    if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === WORKER_ADMIN_MESSAGE) {
      admins.set(w.id, { id: w.id, pid: w.process.pid ?? 0, port: Number((msg as { port?: unknown }).port) });
    }
  });
  const deps: PrimaryAdminDeps = {
    workers: () => [...admins.values()].sort((a, b) => a.id - b.id),
    concurrency: o.concurrency,
    timeoutMs: WORKER_ANSWER_TIMEOUT_MS,
    onHandlerError: (err) => process.stderr.write(`meshlet proxy: admin handler failed: ${String(err)}\n`),
  };
  let metrics: MetricsServer | undefined;
  let admin: import('node:http').Server | undefined;
  try {
    admin = await startPrimaryAdmin(o.adminPort, o.adminAddress, deps);
    if (o.metricsPort >= 0) {
      metrics = await MetricsServer.start({
        registry: clusterMetricsSource(),
        port: o.metricsPort,
        host: o.metricsAddress,
        ready: async () => (await allWorkersReady(deps)).ok,
      });
    }
  } catch (err) {
    admin?.close();
    if (!(err instanceof BindError) && !(err instanceof Error && 'code' in err)) throw err;
    process.stderr.write(`meshlet proxy: ${(err as Error).message}\n`);
    return 1;
  }

  const exited = new Promise<number>((resolve) => {
    let worst = 0;
    cluster.on('exit', (w, code, signal) => {
      admins.delete(w.id);
      process.stderr.write(`meshlet: worker ${w.process.pid} exited with ${code ?? signal}\n`);
      if (code !== 0) worst = 1;
      // The sidecar is its workers: when the last one is gone, so is the primary.
      if (Object.keys(cluster.workers ?? {}).length === 0) resolve(worst);
    });
  });
  for (let i = 0; i < o.concurrency; i++) cluster.fork();

  let signalled = false;
  const stop = (): void => {
    // First signal: each worker drains. A second one: stop them now.
    const sig = signalled ? 'SIGKILL' : 'SIGTERM';
    signalled = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stderr.write(`meshlet proxy listening admin=${o.adminAddress}:${portOf(admin)} metrics=${metrics?.port ?? -1} primary=${process.pid} workers=${o.concurrency}\n`);
  const code = await exited;
  admin.close();
  await metrics?.close();
  return code;
}

function portOf(s: import('node:http').Server): number {
  const a = s.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}
