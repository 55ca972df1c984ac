import type { PickableEndpoint, Picker } from './pickable.js';

/**
 * Smooth weighted round robin (nginx): every eligible endpoint gains its
 * weight, the largest running total wins and pays back the sum. Picks
 * interleave (3:1 gives a a b a, not a a a b), and over one cycle of
 * sum(weights) picks the counts are exact.
 *
 * Equal weights take a cursor instead: smooth WRR with equal weights is plain
 * rotation, and the cursor is O(1) per pick where the scan is O(N).
 */
export class RoundRobinPicker<E extends PickableEndpoint> implements Picker<E> {
  private readonly endpoints: readonly E[];
  private readonly weights: Float64Array;
  private readonly current: Float64Array;
  private readonly uniform: boolean;
  private cursor = 0;

  constructor(endpoints: readonly E[]) {
    this.endpoints = endpoints;
    const n = endpoints.length;
    this.weights = new Float64Array(n);
    this.current = new Float64Array(n);
    let uniform = true;
    for (let i = 0; i < n; i++) {
      const w = endpointWeight(endpoints[i]!);
      this.weights[i] = w;
      if (w !== this.weights[0]) uniform = false;
    }
    this.uniform = uniform;
  }

  pick(_hash: number | undefined, avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    if (eps.length === 1) {
      const only = eps[0]!;
      return panic || only.available ? only : undefined;
    }
    return this.uniform ? this.pickRotating(avoid, panic) : this.pickWeighted(avoid, panic);
  }

  private pickRotating(avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    const n = eps.length;
    let fallback: E | undefined;
    for (let k = 0; k < n; k++) {
      let i = this.cursor + k;
      if (i >= n) i -= n;
      const e = eps[i]!;
      if (!panic && !e.available) continue;
      if (e === avoid) {
        fallback = e;
        continue;
      }
      this.cursor = i + 1 === n ? 0 : i + 1;
      return e;
    }
    return fallback;
  }

  private pickWeighted(avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    const cur = this.current;
    const weights = this.weights;
    let best = -1;
    let total = 0;
    let avoidEligible = false;
    for (let i = 0; i < eps.length; i++) {
      const e = eps[i]!;
      if (!panic && !e.available) continue;
      if (e === avoid) {
        avoidEligible = true;
        continue;
      }
      const w = weights[i]!;
      const c = cur[i]! + w;
      cur[i] = c;
      total += w;
      if (best < 0 || c > cur[best]!) best = i;
    }
    if (best < 0) return avoidEligible ? avoid : undefined;
    cur[best] = cur[best]! - total;
    return eps[best];
  }
}

/** Weights below 1 (or NaN) would stall smooth WRR; the model promises >= 1, this keeps a bad value harmless. */
export function endpointWeight(e: PickableEndpoint): number {
  const w = e.weight;
  return w >= 1 ? w : 1;
}
