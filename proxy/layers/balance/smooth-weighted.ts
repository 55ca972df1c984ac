import type { PickableEndpoint } from './pickable.js';

/** Weight used for balancing: at least 1 (a missing or zero weight counts as 1, as in Istio). */
export function endpointWeight(e: PickableEndpoint): number {
  const w = e.weight;
  return w >= 1 ? w : 1;
}

/** Per-endpoint weights, smooth-WRR running totals, and whether all weights are equal. */
export function weightTable(endpoints: readonly PickableEndpoint[]): { weights: Float64Array; current: Float64Array; uniform: boolean } {
  const n = endpoints.length;
  const weights = new Float64Array(n);
  let uniform = true;
  for (let i = 0; i < n; i++) {
    const w = endpointWeight(endpoints[i]!);
    weights[i] = w;
    if (w !== weights[0]) uniform = false;
  }
  return { weights, current: new Float64Array(n), uniform };
}

/**
 * One step of smooth weighted round robin (nginx) over the eligible
 * endpoints: each gains its weight, the largest running total wins
 * and pays back the sum. O(N), no allocation.
 * `avoid` is only returned when it is the sole eligible endpoint.
 */
export function smoothWeightedPick<E extends PickableEndpoint>(
  eps: readonly E[],
  weights: Float64Array,
  current: Float64Array,
  avoid: E | undefined,
  panic: boolean,
): E | undefined {
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
    const c = current[i]! + w;
    current[i] = c;
    total += w;
    if (best < 0 || c > current[best]!) best = i;
  }
  if (best < 0) return avoidEligible ? avoid : undefined;
  current[best] = current[best]! - total;
  return eps[best];
}
