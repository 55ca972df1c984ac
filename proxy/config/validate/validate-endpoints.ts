// The check an endpoint-only update gets on the sidecar: the changed
// endpoints' shape, and the one cross-object rule that depends on endpoints
// (a ring hash's total weight). The rest of the snapshot was validated when it
// arrived and has not changed, so it is not validated again.
import { z } from 'zod';
import type { ClusterModel, ConfigIssue, EndpointModel } from '../model/index.js';
import { formatIssuePath, joinIssuePath } from './issue-path.js';
import { EndpointSchema } from './mesh-config-schema.js';
import { MAX_RING_POINTS } from './validate-mesh-config.js';

const Endpoints = z.array(EndpointSchema);

export type EndpointsResult = { ok: true; endpoints: EndpointModel[] } | { ok: false; issues: ConfigIssue[] };

/** Shape of endpoints decoded from the wire (`path` prefixes issue paths). */
export function validateEndpoints(cluster: string, endpoints: unknown, path: string): EndpointsResult {
  const parsed = Endpoints.safeParse(endpoints);
  if (parsed.success) return { ok: true, endpoints: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((zi) => ({ resource: `Cluster/${cluster}`, path: joinIssuePath(path, formatIssuePath(zi.path)), reason: zi.message })) };
}

/** The endpoint-dependent rules of a whole cluster, after an update. */
export function checkClusterEndpoints(c: ClusterModel): ConfigIssue[] {
  if (c.policy.lb.kind !== 'ring_hash') return [];
  const total = c.endpoints.reduce((s, e) => s + e.weight, 0);
  return total > MAX_RING_POINTS
    ? [{ resource: `Cluster/${c.name}`, path: 'endpoints', reason: `endpoint weights sum to ${total}: a ring hash of more than ${MAX_RING_POINTS} points (Envoy's maximum ring size) is refused` }]
    : [];
}
