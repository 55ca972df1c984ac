// compile(MeshConfig) → Snapshot: everything a request needs, precomputed once
// per config version (host index, compiled route tables, weighted splits,
// per-route policy layers). Requests read one Snapshot reference on entry and
// keep it to the end, so a swap never shows a request half of two configs.
import { clusterName, type HeaderOps, type MeshConfig, type RouteModel } from '../config/model/index.js';
import { resolvePeerAuthentication, type EffectivePeerAuthentication } from './peer-authentication.js';
import { HostIndex, compilePathRewrite, compileRoutes, type PathRewrite, type RouteTable } from '../layers/route/index.js';
import { WeightedSplit } from '../layers/balance/index.js';
import { compileFault, type FaultLayer } from '../layers/fault/index.js';
import { compileRetry, type RetryLayer } from '../layers/retry/index.js';
import { compileMirrors, type MirrorLayer } from '../layers/mirror/index.js';
import { Authorizer } from '../layers/authorize/index.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { UpstreamRegistry } from '../upstream/registry.js';
import { L4Index } from './l4-index.js';

export interface CompiledDestination {
  /** Cluster when the destination names a port or the service has one port. */
  readonly cluster: ClusterRuntime | undefined;
  /** Otherwise: clusters by request port. */
  readonly byPort: ReadonlyMap<number, ClusterRuntime> | undefined;
  readonly host: string;
  readonly requestHeaders: HeaderOps | undefined;
  readonly responseHeaders: HeaderOps | undefined;
}

export interface CompiledRoute {
  readonly name: string;
  readonly model: RouteModel;
  readonly kind: 'forward' | 'redirect' | 'direct';
  readonly split: WeightedSplit<CompiledDestination> | undefined;
  readonly requestHeaders: HeaderOps | undefined;
  readonly responseHeaders: HeaderOps | undefined;
  /** rewrite.uri / uriRegexRewrite, compiled; null = path sent as received. */
  readonly pathRewrite: PathRewrite | null;
  readonly rewriteAuthority: string | undefined;
  /** Whole-request deadline, all attempts included; 0 = none (Istio's default). */
  readonly timeoutMs: number;
  readonly retry: RetryLayer | null;
  readonly fault: FaultLayer | null;
  readonly mirror: MirrorLayer | null;
  /** Upgrade protocols this route tunnels (RouteModel.upgrades). */
  readonly upgrades: ReadonlySet<string>;
}

/** The default upgrade policy, shared by every route that does not set one. */
export const WEBSOCKET_ONLY: ReadonlySet<string> = new Set(['websocket']);

export interface CompiledVirtualHost {
  readonly name: string;
  readonly table: RouteTable;
  readonly routes: readonly CompiledRoute[];
}

export interface Snapshot {
  readonly version: string;
  readonly config: MeshConfig;
  readonly hosts: HostIndex<CompiledVirtualHost>;
  /** Declared services by original destination, and TLS routes by SNI (the L4 path). */
  readonly l4: L4Index;
  readonly compiledAt: number;
  /** Earliest expiry of a fault/mirror TTL in this config (ms epoch), Infinity if none. */
  readonly nextExpiry: number;
  /** The PeerAuthentication that applies to this sidecar's inbound side. */
  readonly peerAuth: EffectivePeerAuthentication;
  /** The AuthorizationPolicies selecting this workload (inbound), null when none does. */
  readonly authz: Authorizer | null;
}

export interface CompileOptions {
  readonly namespace: string;
  readonly now: number;
  /** This sidecar's workload labels, for routes matching on sourceLabels (none: such clauses never apply). */
  readonly labels?: Readonly<Record<string, string>>;
}

export function compileSnapshot(config: MeshConfig, registry: UpstreamRegistry, opts: CompileOptions): Snapshot {
  const portsByHost = new Map<string, number[]>();
  for (const s of config.services) portsByHost.set(s.host, s.ports.map((p) => p.number));
  let nextExpiry = Infinity;
  const entries = config.virtualHosts.map((vh) => {
    const routes = vh.routes.map((r) => {
      const c = compileRoute(r, registry, portsByHost, opts.now);
      for (const t of [r.fault?.expiresAt, ...(r.mirrors ?? []).map((m) => m.expiresAt)]) if (t !== undefined && t > opts.now) nextExpiry = Math.min(nextExpiry, t);
      return c;
    });
    const value: CompiledVirtualHost = { name: vh.name, table: compileRoutes(vh.routes, { namespace: opts.namespace, labels: opts.labels ?? {} }), routes };
    return { domains: vh.domains, value };
  });
  return {
    version: config.version,
    config,
    hosts: new HostIndex<CompiledVirtualHost>(entries, opts.namespace),
    l4: new L4Index(config, registry),
    compiledAt: opts.now,
    nextExpiry,
    peerAuth: resolvePeerAuthentication(config.peerAuthentications, opts.namespace, opts.labels ?? {}),
    authz: Authorizer.compile(config.authorizationPolicies, { namespace: opts.namespace, labels: opts.labels ?? {} }),
  };
}

function compileRoute(r: RouteModel, registry: UpstreamRegistry, portsByHost: Map<string, number[]>, now: number): CompiledRoute {
  let split: WeightedSplit<CompiledDestination> | undefined;
  if (r.action.kind === 'forward') {
    split = new WeightedSplit(
      r.action.destinations.map((d) => {
        const ports = portsByHost.get(d.host) ?? [];
        const port = d.port ?? (ports.length === 1 ? ports[0] : undefined);
        let cluster: ClusterRuntime | undefined;
        let byPort: Map<number, ClusterRuntime> | undefined;
        if (port !== undefined) cluster = registry.get(clusterName(d.host, port, d.subset));
        else {
          byPort = new Map();
          for (const p of ports) {
            const c = registry.get(clusterName(d.host, p, d.subset));
            if (c !== undefined) byPort.set(p, c);
          }
        }
        const dest: CompiledDestination = {
          cluster,
          byPort,
          host: d.host,
          requestHeaders: d.headers?.request,
          responseHeaders: d.headers?.response,
        };
        return { item: dest, weight: d.weight };
      }),
    );
  }
  // A server-placed fault is the destination's inbound sidecar's business (pipeline/inbound.ts).
  const fault = r.fault !== undefined && r.fault.placement !== 'server' && (r.fault.expiresAt === undefined || r.fault.expiresAt > now) ? r.fault : undefined;
  const mirrors = (r.mirrors ?? []).filter((m) => m.expiresAt === undefined || m.expiresAt > now);
  return {
    name: r.name,
    model: r,
    kind: r.action.kind,
    split,
    requestHeaders: r.headers?.request,
    responseHeaders: r.headers?.response,
    pathRewrite: compilePathRewrite(r),
    rewriteAuthority: r.rewrite?.authority,
    timeoutMs: r.timeoutMs ?? 0,
    retry: compileRetry(r.retries),
    fault: compileFault(fault, r.name, r.timeoutMs ?? 0),
    mirror: compileMirrors(mirrors, (host, port, subset) => resolveMirrorCluster(registry, portsByHost, host, port, subset), r.name, r.timeoutMs ?? 0),
    upgrades: r.upgrades !== undefined ? new Set(r.upgrades) : WEBSOCKET_ONLY,
  };
}

function resolveMirrorCluster(
  registry: UpstreamRegistry,
  portsByHost: Map<string, number[]>,
  host: string,
  port: number | undefined,
  subset: string | undefined,
): ClusterRuntime | undefined {
  const ports = portsByHost.get(host) ?? [];
  const p = port ?? ports[0];
  return p === undefined ? undefined : registry.get(clusterName(host, p, subset));
}

