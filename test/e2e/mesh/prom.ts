// Reading metrics the way a user does: the sidecar's Prometheus text, and a
// real Prometheus server in the node namespace scraping every sidecar.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpAnswer } from '../mesh-rig.js';
import type { PodProcess, PodRig } from '../rig/index.js';
import { runCommand } from '../rig/index.js';

/** What Prometheus needs from a rig: a scratch dir, the node namespace, and a GET from there (MeshRig has all three). */
export interface PromHost {
  readonly work: string;
  readonly rig: PodRig;
  nodeGet(url: string): Promise<HttpAnswer>;
}

/** Sum of `metric` samples in Prometheus text whose labels include every `match` pair. */
export function sumSamples(text: string, metric: string, match: Readonly<Record<string, string>>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels: Record<string, string> = {};
    for (const m of line.slice(metric.length + 1, close).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) sum += Number(line.slice(close + 1).trim());
  }
  return sum;
}

/** Whether a `prometheus` binary is installed (Debian package `prometheus`). */
export async function prometheusInstalled(): Promise<boolean> {
  try {
    return (await runCommand('prometheus', ['--version'], { allowFail: true, timeoutMs: 10_000 })).code === 0;
  } catch {
    return false;
  }
}

/** Starts Prometheus in the node namespace on 127.0.0.1:9090, scraping every sidecar each second. */
export function startPrometheus(mesh: PromHost, pods: readonly { ip: string; name: string }[]): PodProcess {
  const targets = pods.map((p) => `      - targets: ['${p.ip}:15090']\n        labels: { pod: '${p.name}' }`).join('\n');
  const config = `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: sidecars
    metrics_path: /stats/prometheus
    static_configs:
${targets}
`;
  const file = join(mesh.work, 'prometheus.yml');
  writeFileSync(file, config);
  return mesh.rig.runInNode('prometheus', [
    `--config.file=${file}`,
    `--storage.tsdb.path=${join(mesh.work, 'prometheus-data')}`,
    '--web.listen-address=127.0.0.1:9090',
    '--log.level=warn',
  ]);
}

interface PromVector {
  status: string;
  data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> };
  error?: string;
}

/** Runs an instant PromQL query through the HTTP API inside the node namespace; the scalar sum of the vector, or undefined. */
export async function promQuery(mesh: PromHost, query: string): Promise<number | undefined> {
  const r = await mesh.nodeGet(`http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent(query)}`);
  if (r.status !== 200) return undefined;
  const v = JSON.parse(r.body) as PromVector;
  const result = v.data?.result ?? [];
  if (v.status !== 'success' || result.length === 0) return undefined;
  return result.reduce((s, x) => s + Number(x.value[1]), 0);
}

/** Number of scrape targets Prometheus reports as up. */
export async function promTargetsUp(mesh: PromHost): Promise<number> {
  return (await promQuery(mesh, 'sum(up{job="sidecars"})')) ?? 0;
}
