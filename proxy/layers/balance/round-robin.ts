import type { PickableEndpoint, Picker } from './pickable.js';
import { smoothWeightedPick, weightTable } from './smooth-weighted.js';

/** Largest precomputed cycle (entries); above it weighted picks scan instead. */
const MAX_SCHEDULE = 1 << 16;
/** Build work allowed for precomputing the cycle (cycle length x endpoints). */
const MAX_SCHEDULE_WORK = 1 << 23;

/**
 * Smooth weighted round robin (nginx): every eligible endpoint gains its
 * weight, the largest running total wins and pays back the sum. Picks
 * interleave (3:1 gives a a b a, not a a a b), and over one cycle of
 * sum(weights) picks the counts are exact.
 *
 * Per-pick cost is kept O(1) amortised:
 * - equal weights: a rotating cursor (smooth WRR with equal weights is rotation);
 * - unequal weights: one full cycle (sum of weights / gcd) is precomputed at
 *   build time and walked by a cursor; unavailable or avoided endpoints' slots
 *   are skipped, so the survivors keep their relative shares;
 * - cycles too long to precompute fall back to the O(N) smooth-WRR scan.
 */
export class RoundRobinPicker<E extends PickableEndpoint> implements Picker<E> {
  private readonly endpoints: readonly E[];
  private readonly weights: Float64Array;
  private readonly current: Float64Array;
  private readonly uniform: boolean;
  /** Endpoint indices of one precomputed smooth-WRR cycle, or null (uniform, or too long). */
  private readonly schedule: Uint32Array | null;
  private cursor = 0;

  constructor(endpoints: readonly E[]) {
    this.endpoints = endpoints;
    const t = weightTable(endpoints);
    this.weights = t.weights;
    this.current = t.current;
    this.uniform = t.uniform;
    this.schedule = t.uniform ? null : buildSchedule(this.weights);
  }

  pick(_hash: number | undefined, avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    if (eps.length === 1) {
      const only = eps[0]!;
      return panic || only.available ? only : undefined;
    }
    if (this.uniform) return this.pickRotating(avoid, panic);
    return this.schedule !== null ? this.pickScheduled(this.schedule, avoid, panic) : this.pickWeighted(avoid, panic);
  }

  private pickScheduled(schedule: Uint32Array, avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    const len = schedule.length;
    let avoidEligible = false;
    for (let k = 0; k < len; k++) {
      let p = this.cursor + k;
      if (p >= len) p -= len;
      const e = eps[schedule[p]!]!;
      if (!panic && !e.available) {
        // A long dead stretch: check once whether anything is eligible at all.
        if (k === eps.length && !this.anyEligible(avoid, panic)) break;
        continue;
      }
      if (e === avoid) {
        avoidEligible = true;
        continue;
      }
      this.cursor = p + 1 === len ? 0 : p + 1;
      return e;
    }
    return avoidEligible || (avoid !== undefined && (panic || avoid.available) && eps.includes(avoid)) ? avoid : undefined;
  }

  private anyEligible(avoid: E | undefined, panic: boolean): boolean {
    const eps = this.endpoints;
    for (let i = 0; i < eps.length; i++) {
      const e = eps[i]!;
      if ((panic || e.available) && e !== avoid) return true;
    }
    return false;
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
    return smoothWeightedPick(this.endpoints, this.weights, this.current, avoid, panic);
  }
}

/** One smooth-WRR cycle over all endpoints, or null when it would be too long to precompute. */
function buildSchedule(weights: Float64Array): Uint32Array | null {
  const n = weights.length;
  let g = 0;
  for (const w of weights) {
    if (!Number.isInteger(w)) return null;
    g = gcd(g, w);
  }
  let total = 0;
  for (const w of weights) total += w / g;
  if (total > MAX_SCHEDULE || total * n > MAX_SCHEDULE_WORK) return null;
  const schedule = new Uint32Array(total);
  const cur = new Float64Array(n);
  for (let s = 0; s < total; s++) {
    let best = 0;
    for (let i = 0; i < n; i++) {
      cur[i] = cur[i]! + weights[i]! / g;
      if (cur[i]! > cur[best]!) best = i;
    }
    cur[best] = cur[best]! - total;
    schedule[s] = best;
  }
  return schedule;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

