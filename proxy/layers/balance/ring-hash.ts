import { hashString } from './hash-string.js';
import type { PickableEndpoint, Picker } from './pickable.js';
import { endpointWeight } from './smooth-weighted.js';

/** Envoy's default maximum ring size; a bigger ring costs memory for no measurable gain. */
const MAX_RING_SIZE = 8 * 1024 * 1024;
/** Endpoint indices ride in the low 20 bits of the packed sort key (hash * 2^20 + index). */
const MAX_ENDPOINTS = 1 << 20;
const INDEX_SCALE = 1 << 20;

/**
 * Ketama-style consistent hash ring. Each endpoint owns `weight * pointsPerWeight`
 * points at `hash(id + '_' + j)`; a request hash goes to the first point at or
 * after it, wrapping around.
 *
 * pointsPerWeight is `minRingSize / totalWeight` rounded *up to a power of
 * two*, so the ring is between 1x and 2x the minimum size and, crucially, the
 * number of points per endpoint does not change when one of N endpoints comes
 * or goes (until a power of two is crossed). With Envoy's exact scaling the
 * survivors gain points and steal keys from each other; here only the removed
 * endpoint's keys move, about 1/N of them.
 *
 * Unavailable (or avoided) owner: walk clockwise to the next eligible point,
 * which is where that key would land if the endpoint were removed. No hash
 * (key absent): a random point, as Envoy picks a random host.
 */
export class RingHashPicker<E extends PickableEndpoint> implements Picker<E> {
  private readonly endpoints: readonly E[];
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;
  private readonly rng: () => number;

  constructor(endpoints: readonly E[], minRingSize = 1024, rng: () => number = Math.random) {
    if (endpoints.length > MAX_ENDPOINTS) throw new RangeError(`ring hash supports at most ${MAX_ENDPOINTS} endpoints`);
    this.endpoints = endpoints;
    this.rng = rng;
    let totalWeight = 0;
    for (const e of endpoints) totalWeight += endpointWeight(e);
    let perWeight = 1;
    const target = Math.max(1, minRingSize) / Math.max(1, totalWeight);
    while (perWeight < target) perWeight *= 2;
    while (perWeight > 1 && perWeight * totalWeight > MAX_RING_SIZE) perWeight /= 2;

    const packed = new Float64Array(perWeight * totalWeight);
    let k = 0;
    for (let i = 0; i < endpoints.length; i++) {
      const e = endpoints[i]!;
      const count = endpointWeight(e) * perWeight;
      for (let j = 0; j < count; j++) packed[k++] = hashString(`${e.id}_${j}`) * INDEX_SCALE + i;
    }
    // Typed-array sort is numeric; ties (equal hashes) fall back to endpoint index.
    packed.sort();
    this.points = new Uint32Array(packed.length);
    this.owners = new Uint32Array(packed.length);
    for (let p = 0; p < packed.length; p++) {
      const v = packed[p]!;
      const owner = v % INDEX_SCALE;
      this.owners[p] = owner;
      this.points[p] = (v - owner) / INDEX_SCALE;
    }
  }

  /** Number of points on the ring (for config dumps and tests). */
  get size(): number {
    return this.points.length;
  }

  pick(hash: number | undefined, avoid: E | undefined, panic: boolean): E | undefined {
    const len = this.points.length;
    if (len === 0) return undefined;
    const h = hash === undefined ? Math.floor(this.rng() * 4294967296) : hash >>> 0;
    const points = this.points;
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    if (lo === len) lo = 0;
    const e = this.endpoints[this.owners[lo]!]!;
    if ((panic || e.available) && e !== avoid) return e;
    return walkClockwise(this.endpoints, this.owners, lo, avoid, panic);
  }
}

/**
 * Next eligible owner after `start` in a ring/table of endpoint indices. A
 * quick O(N) check first, so a full outage costs one endpoint scan instead of
 * a walk over the whole table on every pick. Shared with maglev.
 */
export function walkClockwise<E extends PickableEndpoint>(
  endpoints: readonly E[],
  owners: Uint32Array | Int32Array,
  start: number,
  avoid: E | undefined,
  panic: boolean,
): E | undefined {
  let other = false;
  let avoidEligible = false;
  for (let i = 0; i < endpoints.length; i++) {
    const e = endpoints[i]!;
    if (!panic && !e.available) continue;
    if (e === avoid) avoidEligible = true;
    else {
      other = true;
      break;
    }
  }
  if (!other) return avoidEligible ? avoid : undefined;
  const len = owners.length;
  for (let k = 1; k < len; k++) {
    let p = start + k;
    if (p >= len) p -= len;
    const owner = owners[p]!;
    if (owner < 0) continue;
    const e = endpoints[owner]!;
    if ((panic || e.available) && e !== avoid) return e;
  }
  // Unreachable when every endpoint owns a slot; maglev tables smaller than N may not.
  for (let i = 0; i < endpoints.length; i++) {
    const e = endpoints[i]!;
    if ((panic || e.available) && e !== avoid) return e;
  }
  return undefined;
}
