// The endpoint-dependent rule of a whole cluster, checked after an
// endpoint-only update on the sidecar (a ring hash's total weight). The
// changed endpoints' shape is checked by validateEndpoints (validate-snapshot.ts);
// the rest of the snapshot was validated when it arrived and has not changed.
import type { ClusterModel, ConfigIssue } from '../model/index.js';
import { MAX_RING_POINTS } from './cross-check.js';

export { validateEndpoints, type EndpointsResult } from './validate-snapshot.js';

/** The endpoint-dependent rules of a whole cluster, after an update. */
export function checkClusterEndpoints(c: ClusterModel): ConfigIssue[] {
  if (c.policy.lb.kind !== 'ring_hash') return [];
  const total = c.endpoints.reduce((s, e) => s + e.weight, 0);
  return total > MAX_RING_POINTS
    ? [{ resource: `Cluster/${c.name}`, path: 'endpoints', reason: `endpoint weights sum to ${total}: a ring hash of more than ${MAX_RING_POINTS} points (Envoy's maximum ring size) is refused` }]
    : [];
}
