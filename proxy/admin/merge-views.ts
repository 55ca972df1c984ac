// --concurrency N: one admin view of the whole sidecar from each worker's own
// view (the JSON each worker's admin answers). Pure functions over parsed
// JSON, so the merge rules are testable in tables:
// - /clusters: counters and in-flight gauges add up; an endpoint is available
//   only when every worker has it available (each worker runs its own outlier
//   detection); per-worker states that disagree are listed under `by_worker`.
// - /config_dump: one config (the first worker's) plus every worker's version,
//   so a worker that lags behind is visible; `version` is null when they differ.
// - /server_info: the primary's pid and the worker count, then each worker's.

/** A worker as the primary knows it. */
export interface WorkerRef {
  /** node:cluster worker id (1, 2, …). */
  readonly id: number;
  readonly pid: number;
  /** The worker's private admin port on 127.0.0.1 (for asking one worker directly). */
  readonly port?: number;
}

type Json = Record<string, unknown>;

const ENDPOINT_SUMS = ['active_requests', 'requests_total', 'errors_total', 'connections'] as const;
const CLUSTER_SUMS = ['active_requests', 'requests_total'] as const;

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function list(v: unknown): Json[] {
  return Array.isArray(v) ? (v as Json[]) : [];
}

/** /clusters over all workers. */
export function mergeClusters(views: readonly Json[]): Json {
  const byName = new Map<string, { merged: Json; endpoints: Map<string, { merged: Json; states: Json[] }> }>();
  for (const view of views) {
    for (const c of list(view['clusters'])) {
      const name = String(c['name']);
      let m = byName.get(name);
      if (m === undefined) {
        m = { merged: { ...c, active_requests: 0, requests_total: 0, ejected: 0, panic: false }, endpoints: new Map() };
        byName.set(name, m);
      }
      for (const k of CLUSTER_SUMS) m.merged[k] = num(m.merged[k]) + num(c[k]);
      // Each worker ejects on its own: the most any worker has ejected; panic if any worker is in panic.
      m.merged['ejected'] = Math.max(num(m.merged['ejected']), num(c['ejected']));
      m.merged['panic'] = m.merged['panic'] === true || c['panic'] === true;
      for (const e of list(c['endpoints'])) {
        const address = String(e['address']);
        let em = m.endpoints.get(address);
        if (em === undefined) {
          em = { merged: { ...e, active_requests: 0, requests_total: 0, errors_total: 0, connections: 0, available: true }, states: [] };
          m.endpoints.set(address, em);
        }
        for (const k of ENDPOINT_SUMS) em.merged[k] = num(em.merged[k]) + num(e[k]);
        em.merged['available'] = em.merged['available'] === true && e['available'] === true;
        em.states.push({ available: e['available'], state: e['state'], breaker: e['breaker'] });
      }
    }
  }
  const clusters = [...byName.values()].map(({ merged, endpoints }) => ({
    ...merged,
    endpoints: [...endpoints.values()].map(({ merged: e, states }) => {
      const first = JSON.stringify(states[0]);
      return states.every((s) => JSON.stringify(s) === first) ? e : { ...e, by_worker: states };
    }),
  }));
  return { workers: views.length, clusters };
}

/** /config_dump over all workers. */
export function mergeConfigDumps(views: readonly Json[], workers: readonly WorkerRef[]): Json {
  const versions = new Set(views.map((v) => v['version'] ?? null));
  let appliedAt: unknown = null;
  for (const v of views) if (typeof v['applied_at'] === 'number' && num(v['applied_at']) > num(appliedAt)) appliedAt = v['applied_at'];
  return {
    version: versions.size === 1 ? (views[0]?.['version'] ?? null) : null,
    applied_at: appliedAt,
    last_rejection: views.find((v) => v['last_rejection'] != null)?.['last_rejection'] ?? null,
    workers: views.map((v, i) => ({
      worker: workers[i]?.id ?? i + 1,
      pid: workers[i]?.pid ?? null,
      version: v['version'] ?? null,
      applied_at: v['applied_at'] ?? null,
      last_rejection: v['last_rejection'] ?? null,
    })),
    config: views[0]?.['config'] ?? null,
  };
}

/** /server_info over all workers. */
export function mergeServerInfo(views: readonly Json[], workers: readonly WorkerRef[], concurrency: number): Json {
  const first = views[0] ?? {};
  return {
    node_id: first['node_id'] ?? null,
    workload: first['workload'] ?? null,
    namespace: first['namespace'] ?? null,
    labels: first['labels'] ?? null,
    version: first['version'] ?? null,
    concurrency,
    pid: process.pid,
    uptime_s: Math.round(process.uptime()),
    node: process.version,
    workers: views.map((v, i) => ({ worker: workers[i]?.id ?? i + 1, admin_port: workers[i]?.port ?? null, ...v })),
  };
}
