import { EdfScheduler } from './edf-scheduler.js';
import type { PickableEndpoint, Picker } from './pickable.js';
import { weightTable } from './smooth-weighted.js';

/** Random draws per candidate before giving up on sampling and scanning instead. */
const SAMPLE_TRIES = 4;

/**
 * Least request, as Envoy does it.
 *
 * Equal weights: power of two choices. Two distinct eligible endpoints are
 * drawn at random and the one with fewer requests in flight wins. The pair is
 * exchangeable (either could have been drawn first), so keeping the first on a
 * tie is already a fair coin and costs no extra random draw. Sampling tries a
 * few random indices and falls back to a counting scan when most endpoints are
 * ineligible, so the common case is O(1) and the worst case O(N).
 *
 * Unequal weights: Envoy's EDF schedule with active_request_bias 1.0. The
 * earliest deadline wins and is filed again 1 / (weight / (active + 1)) later,
 * `active` read at that moment, so a busy endpoint's next turn comes later; an
 * endpoint's weight is refreshed only when it is picked (Envoy's lag, too).
 * O(log N) per pick. An ejected endpoint or the retry's `avoid` at the head
 * of the schedule is passed over as Envoy passes over a host its retry
 * predicate rejects: it spends that turn and is filed again. When more than N
 * entries in a row are passed over (nearly everything ejected), the eligible
 * endpoint with the earliest deadline is taken directly.
 */
export class LeastRequestPicker<E extends PickableEndpoint> implements Picker<E> {
  private readonly endpoints: readonly E[];
  private readonly weights: Float64Array;
  private readonly uniform: boolean;
  private readonly rng: () => number;
  /** Built only for unequal weights (Envoy skips the EDF when all are equal). */
  private readonly edf: EdfScheduler | null;

  constructor(endpoints: readonly E[], rng: () => number = Math.random) {
    this.endpoints = endpoints;
    this.rng = rng;
    const t = weightTable(endpoints);
    this.weights = t.weights;
    this.uniform = t.uniform;
    this.edf = t.uniform || endpoints.length < 2 ? null : new EdfScheduler(t.weights, rng);
  }

  pick(_hash: number | undefined, avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    if (eps.length === 1) {
      const only = eps[0]!;
      return panic || only.available ? only : undefined;
    }
    return this.uniform ? this.pickTwoChoices(avoid, panic) : this.pickWeighted(avoid, panic);
  }

  private pickTwoChoices(avoid: E | undefined, panic: boolean): E | undefined {
    const a = this.sample(-1, avoid, panic);
    if (a >= 0) {
      const b = this.sample(a, avoid, panic);
      if (b >= 0) return this.fewer(a, b);
    }
    return this.pickTwoByScan(avoid, panic);
  }

  /** A random eligible index other than `exclude`, or -1 after a few misses. */
  private sample(exclude: number, avoid: E | undefined, panic: boolean): number {
    const eps = this.endpoints;
    const n = eps.length;
    for (let t = 0; t < SAMPLE_TRIES; t++) {
      let i = Math.floor(this.rng() * n);
      if (i >= n) i = n - 1;
      if (i === exclude) continue;
      const e = eps[i]!;
      if ((panic || e.available) && e !== avoid) return i;
    }
    return -1;
  }

  /** Exact P2C over the eligible subset: count it, draw two distinct ranks, find them. */
  private pickTwoByScan(avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    let m = 0;
    let last = -1;
    let avoidEligible = false;
    for (let i = 0; i < eps.length; i++) {
      const e = eps[i]!;
      if (!panic && !e.available) continue;
      if (e === avoid) {
        avoidEligible = true;
        continue;
      }
      m++;
      last = i;
    }
    if (m === 0) return avoidEligible ? avoid : undefined;
    if (m === 1) return eps[last];
    let ra = Math.floor(this.rng() * m);
    if (ra >= m) ra = m - 1;
    let rb = Math.floor(this.rng() * (m - 1));
    if (rb >= m - 1) rb = m - 2;
    if (rb >= ra) rb++;
    let a = -1;
    let b = -1;
    let rank = 0;
    for (let i = 0; i < eps.length && (a < 0 || b < 0); i++) {
      const e = eps[i]!;
      if ((!panic && !e.available) || e === avoid) continue;
      if (rank === ra) a = i;
      else if (rank === rb) b = i;
      rank++;
    }
    return this.fewer(a, b);
  }

  private fewer(a: number, b: number): E {
    const ea = this.endpoints[a]!;
    const eb = this.endpoints[b]!;
    return eb.active < ea.active ? eb : ea;
  }

  private pickWeighted(avoid: E | undefined, panic: boolean): E | undefined {
    const edf = this.edf!;
    const eps = this.endpoints;
    for (let tries = 0; tries < eps.length; tries++) {
      const i = edf.top();
      const e = eps[i]!;
      edf.advance(i, this.weights[i]! / (e.active + 1));
      if (!panic && !e.available) continue;
      if (e !== avoid) return e;
    }
    // `avoid` only when it is the sole eligible endpoint.
    return this.earliestEligible(avoid, panic) ?? (avoid !== undefined && (panic || avoid.available) ? avoid : undefined);
  }

  /** The slow path: the eligible endpoint (not `avoid`) whose turn comes first. O(N). */
  private earliestEligible(avoid: E | undefined, panic: boolean): E | undefined {
    const edf = this.edf!;
    const eps = this.endpoints;
    let best = -1;
    for (let i = 0; i < eps.length; i++) {
      const e = eps[i]!;
      if ((!panic && !e.available) || e === avoid) continue;
      if (best < 0 || edf.deadlineOf(i) < edf.deadlineOf(best)) best = i;
    }
    if (best < 0) return undefined;
    edf.advance(best, this.weights[best]! / (eps[best]!.active + 1));
    return eps[best];
  }
}
