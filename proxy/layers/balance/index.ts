// Public surface of load balancing: pick one endpoint of a cluster, and pick
// one destination of a route's traffic split. Pure, synchronous, built once per
// endpoint set (snapshot compile or endpoint update), allocation-free per pick.
import type { LoadBalancerPolicy } from '../../config/model/index.js';
import { LeastRequestPicker } from './least-request.js';
import { MaglevPicker } from './maglev.js';
import type { PickableEndpoint, Picker } from './pickable.js';
import { RandomPicker } from './random.js';
import { RingHashPicker } from './ring-hash.js';
import { RoundRobinPicker } from './round-robin.js';

export type { PickableEndpoint, Picker } from './pickable.js';
export { RoundRobinPicker } from './round-robin.js';
export { LeastRequestPicker } from './least-request.js';
export { RandomPicker } from './random.js';
export { RingHashPicker } from './ring-hash.js';
export { MaglevPicker, DEFAULT_MAGLEV_TABLE_SIZE } from './maglev.js';
export { requestHash, generatedCookie, type GeneratedCookie } from './hash-key.js';
export { hashString, hashStringRange } from './hash-string.js';
export { WeightedSplit } from './weighted-split.js';

/**
 * Build the picker for a cluster's policy over one endpoint set. Rebuild it
 * when the set (membership or weights) changes; `available` and `active` are
 * read live on every pick, so ejections and load need no rebuild.
 * For ring_hash/maglev, compute the hash per request with `requestHash`.
 */
export function createPicker<E extends PickableEndpoint>(
  policy: LoadBalancerPolicy,
  endpoints: readonly E[],
  rng: () => number = Math.random,
): Picker<E> {
  switch (policy.kind) {
    case 'round_robin':
      return new RoundRobinPicker(endpoints);
    case 'least_request':
      return new LeastRequestPicker(endpoints, rng);
    case 'random':
      return new RandomPicker(endpoints, rng);
    case 'ring_hash':
      return new RingHashPicker(endpoints, policy.tableSize, rng);
    case 'maglev':
      return new MaglevPicker(endpoints, policy.tableSize, rng);
  }
}
