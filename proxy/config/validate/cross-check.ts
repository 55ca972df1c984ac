// The checks every validated MeshConfig gets after its shape, whichever
// validator checked the shape (zod on the control plane and in --config mode,
// the generated one on the sidecar): rules across objects (cluster names,
// destinations that need a cluster, a ring hash's total weight), and the
// naming of the object an issue is in.

import type { ConfigIssue, MeshConfig } from '../model/index.js';
import { clusterName } from '../model/index.js';

export const MAX_RING_POINTS = 8_388_608;

export function crossCheck(cfg: MeshConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const names = new Set<string>();
  const hostSubsets = new Set<string>();
  cfg.clusters.forEach((c, i) => {
    const resource = `Cluster/${c.name}`;
    if (names.has(c.name)) issues.push({ resource, path: `clusters[${i}].name`, reason: 'duplicate cluster name' });
    const expected = clusterName(c.host, c.port, c.subset);
    if (c.name !== expected) issues.push({ resource, path: `clusters[${i}].name`, reason: `must be ${expected}` });
    names.add(c.name);
    hostSubsets.add(`${c.subset ?? ''}|${c.host}`);
    if (c.policy.lb.kind === 'ring_hash') {
      // Every weight unit is at least one point on the ring.
      const total = c.endpoints.reduce((s, e) => s + e.weight, 0);
      if (total > MAX_RING_POINTS) {
        issues.push({ resource, path: `clusters[${i}].endpoints`, reason: `endpoint weights sum to ${total}: a ring hash of more than ${MAX_RING_POINTS} points (Envoy's maximum ring size) is refused` });
      }
    }
  });
  const known = (host: string, port: number | undefined, subset: string | undefined): boolean =>
    port !== undefined ? names.has(clusterName(host, port, subset)) : hostSubsets.has(`${subset ?? ''}|${host}`);

  cfg.virtualHosts.forEach((vh, v) => {
    const resource = `VirtualHost/${vh.name}`;
    vh.routes.forEach((r, ri) => {
      const at = `virtualHosts[${v}].routes[${ri}]`;
      if (r.action.kind === 'forward') {
        const ds = r.action.destinations;
        if (ds.length > 1 && ds.reduce((s, d) => s + d.weight, 0) === 0) {
          issues.push({ resource, path: `${at}.action.destinations`, reason: 'weights sum to 0' });
        }
        ds.forEach((d, di) => {
          if (!known(d.host, d.port, d.subset)) {
            issues.push({ resource, path: `${at}.action.destinations[${di}]`, reason: `no cluster for ${d.host} port ${d.port ?? '*'} subset ${d.subset ?? '-'}` });
          }
        });
      }
      r.mirrors?.forEach((m, mi) => {
        if (!known(m.host, m.port, m.subset)) {
          issues.push({ resource, path: `${at}.mirrors[${mi}]`, reason: `no cluster for ${m.host} port ${m.port ?? '*'} subset ${m.subset ?? '-'}` });
        }
      });
    });
  });
  return issues;
}

export /** Names the object an issue is in (`Cluster/<name>`, `VirtualHost/<name>`), best effort. */
function resourceAt(config: unknown, path: readonly PropertyKey[]): string {
  const [top, idx] = path;
  const kinds: Record<string, [string, string]> = {
    clusters: ['Cluster', 'name'],
    virtualHosts: ['VirtualHost', 'name'],
    services: ['Service', 'host'],
  };
  const kind = typeof top === 'string' ? kinds[top] : undefined;
  if (kind && typeof idx === 'number' && typeof config === 'object' && config !== null) {
    const list = (config as Record<string, unknown>)[top as string];
    const item: unknown = Array.isArray(list) ? list[idx] : undefined;
    const id = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[kind[1]] : undefined;
    return `${kind[0]}/${typeof id === 'string' ? id : `#${idx}`}`;
  }
  return 'MeshConfig';
}
