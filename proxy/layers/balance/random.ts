import type { PickableEndpoint, Picker } from './pickable.js';
import { endpointWeight } from './smooth-weighted.js';

/**
 * Weighted random. The first draw is over all endpoints (binary search on a
 * cumulative-weight table built once); only when it lands on an ineligible or
 * avoided endpoint does a second draw run over the eligible weight, by scan.
 */
export class RandomPicker<E extends PickableEndpoint> implements Picker<E> {
  private readonly endpoints: readonly E[];
  private readonly cumulative: Float64Array;
  private readonly total: number;
  private readonly uniform: boolean;
  private readonly rng: () => number;

  constructor(endpoints: readonly E[], rng: () => number = Math.random) {
    this.endpoints = endpoints;
    this.rng = rng;
    const n = endpoints.length;
    this.cumulative = new Float64Array(n);
    let total = 0;
    let uniform = true;
    for (let i = 0; i < n; i++) {
      const w = endpointWeight(endpoints[i]!);
      if (i > 0 && w !== endpointWeight(endpoints[0]!)) uniform = false;
      total += w;
      this.cumulative[i] = total;
    }
    this.total = total;
    this.uniform = uniform;
  }

  pick(_hash: number | undefined, avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    if (n === 0) return undefined;
    let i: number;
    if (this.uniform) {
      i = Math.floor(this.rng() * n);
      if (i >= n) i = n - 1;
    } else {
      const r = this.rng() * this.total;
      const cum = this.cumulative;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cum[mid]! <= r) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    const e = eps[i]!;
    if ((panic || e.available) && e !== avoid) return e;
    return this.pickByScan(avoid, panic);
  }

  private pickByScan(avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    let eligibleWeight = 0;
    let avoidEligible = false;
    for (let i = 0; i < eps.length; i++) {
      const e = eps[i]!;
      if (!panic && !e.available) continue;
      if (e === avoid) avoidEligible = true;
      else eligibleWeight += endpointWeight(e);
    }
    if (eligibleWeight === 0) return avoidEligible ? avoid : undefined;
    let r = this.rng() * eligibleWeight;
    let last: E | undefined;
    for (let i = 0; i < eps.length; i++) {
      const e = eps[i]!;
      if ((!panic && !e.available) || e === avoid) continue;
      last = e;
      r -= endpointWeight(e);
      if (r < 0) return e;
    }
    return last;
  }
}
