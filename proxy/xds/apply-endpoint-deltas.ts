// An endpoint-only update applied to the config the sidecar runs: each
// named cluster loses its removed endpoints, changed ones are replaced in
// place and new ones appended. Only the touched clusters are checked (the
// rest of the config is unchanged since it was validated). Pure: the caller
// applies the result, or NACKs with the issues and keeps what it runs.
import type { ClusterModel, ConfigIssue, MeshConfig } from '../config/model/index.js';
import { checkClusterEndpoints, validateEndpoints } from '../config/validate/validate-endpoints.js';

export interface WireEndpointDelta {
  readonly cluster: string;
  readonly upserts: string;
  readonly removed: readonly { readonly address: string; readonly port: number }[];
}

export type DeltaResult = { readonly ok: true; readonly config: MeshConfig } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export function applyEndpointDeltas(running: MeshConfig, version: string, deltas: readonly WireEndpointDelta[]): DeltaResult {
  const issues: ConfigIssue[] = [];
  const index = new Map<string, number>();
  running.clusters.forEach((c, i) => index.set(c.name, i));
  const clusters: ClusterModel[] = running.clusters.slice();
  deltas.forEach((d, di) => {
    const at = `endpoint_deltas[${di}]`;
    const i = index.get(d.cluster);
    if (i === undefined) {
      issues.push({ resource: `Cluster/${d.cluster}`, path: at, reason: 'no such cluster in the running config' });
      return;
    }
    let upserts: unknown;
    try {
      upserts = JSON.parse(d.upserts);
    } catch (err) {
      issues.push({ resource: `Cluster/${d.cluster}`, path: `${at}.upserts`, reason: `invalid JSON: ${(err as Error).message}` });
      return;
    }
    const checked = validateEndpoints(d.cluster, upserts, `${at}.upserts`);
    if (!checked.ok) {
      issues.push(...checked.issues);
      return;
    }
    const current = clusters[i]!;
    const gone = new Set(d.removed.map((r) => `${r.address}|${r.port}`));
    const changed = new Map(checked.endpoints.map((e) => [`${e.address}|${e.port}`, e]));
    const endpoints = [];
    for (const e of current.endpoints) {
      const k = `${e.address}|${e.port}`;
      if (gone.delete(k)) continue;
      const upd = changed.get(k);
      if (upd) changed.delete(k);
      endpoints.push(upd ?? e);
    }
    // Removing what is not there means we are not running what the control plane thinks.
    for (const k of gone) issues.push({ resource: `Cluster/${d.cluster}`, path: `${at}.removed`, reason: `endpoint ${k.replace('|', ':')} is not in the running config` });
    endpoints.push(...changed.values());
    const next: ClusterModel = { ...current, endpoints };
    issues.push(...checkClusterEndpoints(next));
    clusters[i] = next;
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, config: { ...running, version, clusters } };
}
