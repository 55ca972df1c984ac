// What one sidecar gets: the resources of its snapshot, and a version that is a
// hash of exactly those bytes. The hash (not a counter) is what makes an
// unchanged config keep its version across control-plane restarts, so a
// resubscribing sidecar that already runs it is sent nothing.
//
// Scoping: by namespace only (Istio `exportTo`, see scope-config.ts): a node
// gets what its namespace can see. There is no Sidecar `egress` pruning:
// route destinations may be cluster templates resolved per request port, so
// pruning "unreferenced" clusters could blackhole traffic. The snapshot thus
// depends only on the node's namespace (and on nothing at all when no
// resource restricts its visibility), so SnapshotBuilder builds it once per
// config and namespace and shares it between nodes.
import { createHash } from 'node:crypto';
import type { ClusterModel, MeshConfig, VirtualHostModel } from '../../proxy/config/model/index.js';
import { isScoped, scopeConfig } from './scope-config.js';

export type ResourceKind = 'cluster' | 'virtual_host' | 'service' | 'peer_authentication' | 'authorization_policy' | 'tls_route' | 'outbound_traffic_policy';

export interface SnapshotResource {
  readonly kind: ResourceKind;
  readonly name: string;
  /** JSON of the model object. */
  readonly body: string;
  /** > 0 for resources holding fault/mirror rules when a TTL is configured. */
  readonly ttlMs: number;
  /** The cluster itself (kind `cluster`), so an endpoint-only change can be diffed without parsing. */
  readonly cluster?: ClusterModel;
}

export interface NodeIdentity {
  readonly id: string;
  readonly workload: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** What a Kubernetes sidecar says it is (downward API); '' or absent outside Kubernetes. */
  readonly podName?: string;
  readonly podIp?: string;
  readonly serviceAccount?: string;
}

export interface NodeSnapshot {
  readonly version: string;
  readonly resources: readonly SnapshotResource[];
  /** True when some resource carries a TTL (the server must heartbeat it). */
  readonly hasTtl: boolean;
  /** VirtualServices left out for this node's namespace (they route to a host it cannot see). */
  readonly leftOut?: readonly { readonly source: string; readonly host: string }[];
}

export interface BuildOptions {
  /** TTL for virtual hosts that contain faults or mirrors (0/undefined = none). */
  readonly faultTtlMs?: number;
}

function hasExperiment(vh: VirtualHostModel): boolean {
  return vh.routes.some((r) => r.fault !== undefined || (r.mirrors !== undefined && r.mirrors.length > 0));
}

/** Pure: config + the node's namespace → versioned snapshot of what that namespace sees. */
export function buildNodeSnapshot(full: MeshConfig, node: NodeIdentity | undefined, opts: BuildOptions = {}): NodeSnapshot {
  const { config, leftOut } = scopeConfig(full, node?.namespace ?? '');
  const ttl = opts.faultTtlMs && opts.faultTtlMs > 0 ? Math.floor(opts.faultTtlMs) : 0;
  const resources: SnapshotResource[] = [];
  for (const s of config.services) resources.push({ kind: 'service', name: `${s.namespace}/${s.host}`, body: JSON.stringify(s), ttlMs: 0 });
  for (const c of config.clusters) resources.push({ kind: 'cluster', name: c.name, body: JSON.stringify(c), ttlMs: 0, cluster: c });
  let hasTtl = false;
  for (const vh of config.virtualHosts) {
    const ttlMs = ttl > 0 && hasExperiment(vh) ? ttl : 0;
    if (ttlMs > 0) hasTtl = true;
    resources.push({ kind: 'virtual_host', name: vh.name, body: JSON.stringify(vh), ttlMs });
  }
  for (const pa of config.peerAuthentications ?? []) resources.push({ kind: 'peer_authentication', name: pa.source, body: JSON.stringify(pa), ttlMs: 0 });
  // Every policy goes to every node; the sidecar keeps those that select it (model/authorization.ts).
  for (const p of config.authorizationPolicies ?? []) resources.push({ kind: 'authorization_policy', name: p.name, body: JSON.stringify(p), ttlMs: 0 });
  for (const r of config.tlsRoutes ?? []) resources.push({ kind: 'tls_route', name: r.name, body: JSON.stringify(r), ttlMs: 0 });
  // One per mesh (translation refuses Sidecars that disagree): a single resource with a fixed name.
  if (config.outboundTrafficPolicy !== undefined) {
    resources.push({ kind: 'outbound_traffic_policy', name: 'mesh', body: JSON.stringify({ mode: config.outboundTrafficPolicy }), ttlMs: 0 });
  }
  const h = createHash('sha256');
  for (const r of resources) h.update(`${r.kind}\0${r.name}\0${r.ttlMs}\0${r.body}\0`);
  return { version: h.digest('hex').slice(0, 16), resources, hasTtl, ...(leftOut.length > 0 ? { leftOut } : {}) };
}

/** Caches the snapshot per config object and namespace (one for all when nothing is scoped). */
export class SnapshotBuilder {
  readonly #opts: BuildOptions;
  #config: MeshConfig | undefined;
  #scoped = false;
  readonly #byNamespace = new Map<string, NodeSnapshot>();

  constructor(opts: BuildOptions = {}) {
    this.#opts = opts;
  }

  build(config: MeshConfig, node: NodeIdentity | undefined): NodeSnapshot {
    if (this.#config !== config) {
      this.#config = config;
      this.#scoped = isScoped(config);
      this.#byNamespace.clear();
    }
    const key = this.#scoped ? (node?.namespace ?? '') : '*';
    let snap = this.#byNamespace.get(key);
    if (snap === undefined) {
      snap = buildNodeSnapshot(config, node, this.#opts);
      this.#byNamespace.set(key, snap);
    }
    return snap;
  }
}
