// Per-namespace visibility (Istio's `exportTo`): what a sidecar in one
// namespace may see of the mesh. A service (and its clusters) is kept when it
// is exported to the namespace; a virtual host when its VirtualService is
// exported there and every host it routes or mirrors to is visible too (a
// route to a service the namespace cannot see would have no cluster: Istio
// answers 503 for it; Meshlet leaves that VirtualService out for the
// namespace). A visible service left without visible routes gets the default
// route, as Istio routes a host whose VirtualService is not exported.
import { defaultVirtualHost, visibleTo } from '../../proxy/config/index.js';
import type { MeshConfig, VirtualHostModel } from '../../proxy/config/model/index.js';

export interface ScopedConfig {
  readonly config: MeshConfig;
  /** VirtualServices exported here but left out: they route to a host this namespace cannot see. */
  readonly leftOut: readonly { readonly source: string; readonly host: string }[];
}

/** True when some resource restricts its visibility (otherwise every namespace sees the same config). */
export function isScoped(config: MeshConfig): boolean {
  return config.services.some((s) => s.exportTo !== undefined) || config.virtualHosts.some((v) => v.exportTo !== undefined);
}

function routedHosts(vh: VirtualHostModel): string[] {
  const out: string[] = [];
  for (const r of vh.routes) {
    if (r.action.kind === 'forward') for (const d of r.action.destinations) out.push(d.host);
    for (const m of r.mirrors ?? []) out.push(m.host);
  }
  return out;
}

export function scopeConfig(config: MeshConfig, namespace: string): ScopedConfig {
  if (!isScoped(config)) return { config, leftOut: [] };
  const services = config.services.filter((s) => visibleTo(s.exportTo, namespace));
  const hosts = new Set(services.map((s) => s.host));
  const clusters = config.clusters.filter((c) => hosts.has(c.host));
  const virtualHosts: VirtualHostModel[] = [];
  const leftOut: { source: string; host: string }[] = [];
  const routed = new Set<string>();
  const declared = new Set(config.services.map((s) => s.host));
  for (const vh of config.virtualHosts) {
    if (!visibleTo(vh.exportTo, namespace)) continue;
    // Routes for hosts nobody here can address are simply not this namespace's business.
    if (vh.domains.every((d) => declared.has(d) && !hosts.has(d))) continue;
    const missing = routedHosts(vh).find((h) => !hosts.has(h));
    if (missing !== undefined) {
      leftOut.push({ source: vh.source, host: missing });
      continue;
    }
    virtualHosts.push(vh);
    for (const d of vh.domains) routed.add(d);
  }
  for (const s of services) {
    if (routed.has(s.host)) continue;
    virtualHosts.push(defaultVirtualHost(s.host, s.ports.map((p) => p.number), s.source));
  }
  return { config: { ...config, services, clusters, virtualHosts }, leftOut };
}
