// Endpoint-only updates: when two snapshots of one node differ only in the
// endpoints of some clusters, the change is sent as per-endpoint upserts and
// removals instead of the whole snapshot (xDS's incremental EDS, in spirit).
// Anything else that differs (a route, a policy, a cluster added or removed,
// a TTL'd resource) means the whole snapshot goes out.
import type { ClusterModel, EndpointModel } from '../../proxy/config/model/index.js';
import type { NodeSnapshot } from './node-snapshot.js';

export interface EndpointDelta {
  readonly cluster: string;
  /** JSON array of the added or changed endpoints. */
  readonly upserts: string;
  readonly removed: readonly { readonly address: string; readonly port: number }[];
}

const keyOf = (e: EndpointModel): string => `${e.address}|${e.port}`;

function sameExceptEndpoints(a: ClusterModel, b: ClusterModel): boolean {
  return JSON.stringify({ ...a, endpoints: 0 }) === JSON.stringify({ ...b, endpoints: 0 });
}

/** undefined when two endpoints share an address and port (no key to diff by). */
function byKey(eps: readonly EndpointModel[]): Map<string, EndpointModel> | undefined {
  const m = new Map<string, EndpointModel>();
  for (const e of eps) {
    const k = keyOf(e);
    if (m.has(k)) return undefined;
    m.set(k, e);
  }
  return m;
}

function clusterDelta(a: ClusterModel, b: ClusterModel): EndpointDelta | undefined {
  const before = byKey(a.endpoints);
  const after = byKey(b.endpoints);
  if (!before || !after) return undefined;
  const upserts: EndpointModel[] = [];
  for (const [k, e] of after) {
    const old = before.get(k);
    if (old === undefined || JSON.stringify(old) !== JSON.stringify(e)) upserts.push(e);
  }
  const removed: { address: string; port: number }[] = [];
  for (const [k, e] of before) if (!after.has(k)) removed.push({ address: e.address, port: e.port });
  return { cluster: b.name, upserts: JSON.stringify(upserts), removed };
}

/**
 * The endpoint changes that turn `from` into `to`, or undefined when they
 * differ in anything else, or when the delta would not be smaller.
 */
export function endpointDelta(from: NodeSnapshot, to: NodeSnapshot): EndpointDelta[] | undefined {
  if (from.hasTtl || to.hasTtl || from.resources.length !== to.resources.length) return undefined;
  const out: EndpointDelta[] = [];
  let deltaBytes = 0;
  let fullBytes = 0;
  for (let i = 0; i < to.resources.length; i++) {
    const a = from.resources[i]!;
    const b = to.resources[i]!;
    fullBytes += b.body.length;
    if (a.kind !== b.kind || a.name !== b.name) return undefined;
    if (a.body === b.body) continue;
    if (b.kind !== 'cluster' || !a.cluster || !b.cluster || !sameExceptEndpoints(a.cluster, b.cluster)) return undefined;
    const d = clusterDelta(a.cluster, b.cluster);
    if (!d) return undefined;
    deltaBytes += d.upserts.length + d.removed.length * 24;
    out.push(d);
  }
  return out.length > 0 && deltaBytes < fullBytes ? out : undefined;
}

/** Encoded size, comparable with snapshotBytes. */
export function deltaBytes(deltas: readonly EndpointDelta[]): number {
  let n = 64;
  for (const d of deltas) {
    n += d.cluster.length + d.upserts.length + 16;
    for (const r of d.removed) n += r.address.length + 12;
  }
  return n;
}
