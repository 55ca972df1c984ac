import type { PickableEndpoint, Picker } from './pickable.js';
import { smoothWeightedPick, weightTable } from './smooth-weighted.js';

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
 * Unequal weights: Envoy's rule with active_request_bias 1.0, effective weight
 * `weight / (active + 1)`, recomputed on every pick from the live `active`
 * counts and fed to smooth weighted round robin (Envoy uses an EDF scheduler;
 * smooth WRR gives the same long-run shares, deterministic interleaving and
 * no heap). O(N) per pick.
 */
export class LeastRequestPicker<E extends PickableEndpoint> implements Picker<E> {
  private readonly endpoints: readonly E[];
  private readonly weights: Float64Array;
  private readonly current: Float64Array;
  private readonly uniform: boolean;
  private readonly rng: () => number;

  constructor(endpoints: readonly E[], rng: () => number = Math.random) {
    this.endpoints = endpoints;
    this.rng = rng;
    const t = weightTable(endpoints);
    this.weights = t.weights;
    this.current = t.current;
    this.uniform = t.uniform;
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
    return smoothWeightedPick(this.endpoints, this.weights, this.current, avoid, panic, true);
  }
}
