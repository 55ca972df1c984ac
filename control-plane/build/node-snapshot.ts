// What one sidecar gets: the resources of its snapshot, and a version that is a
// hash of exactly those bytes. The hash (not a counter) is what makes an
// unchanged config keep its version across control-plane restarts, so a
// resubscribing sidecar that already runs it is sent nothing.
//
// Scoping: none. Every node gets every service, cluster and virtual host, as
// Istio does without a `Sidecar` resource. Route destinations may be cluster
// templates resolved per request port, so pruning "unreferenced" clusters here
// could blackhole traffic; scoping belongs with an explicit Sidecar-like API.
// Because the snapshot does not depend on the node, it is built once per
// config and shared by all nodes (see SnapshotBuilder).
import { createHash } from 'node:crypto';
import type { MeshConfig, VirtualHostModel } from '../../proxy/config/model/index.js';

export type ResourceKind = 'cluster' | 'virtual_host' | 'service' | 'peer_authentication';

export interface SnapshotResource {
  readonly kind: ResourceKind;
  readonly name: string;
  /** JSON of the model object. */
  readonly body: string;
  /** > 0 for resources holding fault/mirror rules when a TTL is configured. */
  readonly ttlMs: number;
}

export interface NodeIdentity {
  readonly id: string;
  readonly workload: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NodeSnapshot {
  readonly version: string;
  readonly resources: readonly SnapshotResource[];
  /** True when some resource carries a TTL (the server must heartbeat it). */
  readonly hasTtl: boolean;
}

export interface BuildOptions {
  /** TTL for virtual hosts that contain faults or mirrors (0/undefined = none). */
  readonly faultTtlMs?: number;
}

function hasExperiment(vh: VirtualHostModel): boolean {
  return vh.routes.some((r) => r.fault !== undefined || (r.mirrors !== undefined && r.mirrors.length > 0));
}

/** Pure: config (+ node, unused while unscoped) → versioned snapshot. */
export function buildNodeSnapshot(config: MeshConfig, _node: NodeIdentity | undefined, opts: BuildOptions = {}): NodeSnapshot {
  const ttl = opts.faultTtlMs && opts.faultTtlMs > 0 ? Math.floor(opts.faultTtlMs) : 0;
  const resources: SnapshotResource[] = [];
  for (const s of config.services) resources.push({ kind: 'service', name: `${s.namespace}/${s.host}`, body: JSON.stringify(s), ttlMs: 0 });
  for (const c of config.clusters) resources.push({ kind: 'cluster', name: c.name, body: JSON.stringify(c), ttlMs: 0 });
  let hasTtl = false;
  for (const vh of config.virtualHosts) {
    const ttlMs = ttl > 0 && hasExperiment(vh) ? ttl : 0;
    if (ttlMs > 0) hasTtl = true;
    resources.push({ kind: 'virtual_host', name: vh.name, body: JSON.stringify(vh), ttlMs });
  }
  for (const pa of config.peerAuthentications ?? []) resources.push({ kind: 'peer_authentication', name: pa.source, body: JSON.stringify(pa), ttlMs: 0 });
  const h = createHash('sha256');
  for (const r of resources) h.update(`${r.kind}\0${r.name}\0${r.ttlMs}\0${r.body}\0`);
  return { version: h.digest('hex').slice(0, 16), resources, hasTtl };
}

/** Caches the (node-independent) snapshot per config object. */
export class SnapshotBuilder {
  readonly #opts: BuildOptions;
  #config: MeshConfig | undefined;
  #snapshot: NodeSnapshot | undefined;

  constructor(opts: BuildOptions = {}) {
    this.#opts = opts;
  }

  build(config: MeshConfig, node: NodeIdentity | undefined): NodeSnapshot {
    if (this.#config !== config || !this.#snapshot) {
      this.#snapshot = buildNodeSnapshot(config, node, this.#opts);
      this.#config = config;
    }
    return this.#snapshot;
  }
}
