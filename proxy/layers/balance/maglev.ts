import { hashString } from './hash-string.js';
import type { PickableEndpoint, Picker } from './pickable.js';
import { endpointWeight } from './smooth-weighted.js';
import { walkClockwise } from './ring-hash.js';

export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

/**
 * Maglev lookup table (Eisenbud et al., NSDI'16) of prime size M. Each endpoint
 * walks its own permutation of the slots (offset = h1 % M, skip = h2 % (M-1) + 1)
 * and the endpoints take turns claiming their next free slot; weight is honoured
 * by giving each endpoint `weight / maxWeight` turns of credit per round, which
 * is how Envoy's weighted Maglev behaves. Endpoints are processed in id order so
 * every proxy with the same endpoint set builds the same table.
 *
 * Pick is `table[hash % M]`. Unavailable/avoided owner: walk forward through the
 * table to the next eligible owner. Neighbouring slots belong to unrelated
 * endpoints (the permutations interleave), so the displaced keys spread over the
 * survivors roughly by weight, and keys of healthy endpoints never move. (Envoy
 * rebuilds the table over healthy hosts instead, which also reshuffles some
 * healthy keys; a per-pick rebuild is not an option on this hot path.)
 *
 * A non-prime `tableSize` is rounded up to the next prime (the permutation
 * needs it); the control plane is expected to validate it anyway.
 */
export class MaglevPicker<E extends PickableEndpoint> implements Picker<E> {
  private readonly endpoints: readonly E[];
  private readonly table: Int32Array;
  private readonly rng: () => number;

  constructor(endpoints: readonly E[], tableSize = DEFAULT_MAGLEV_TABLE_SIZE, rng: () => number = Math.random) {
    this.rng = rng;
    const sorted = endpoints.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.endpoints = sorted;
    const m = nextPrime(Math.max(2, tableSize));
    this.table = new Int32Array(m).fill(-1);
    const n = sorted.length;
    if (n === 0) return;

    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const next = new Float64Array(n);
    const share = new Float64Array(n);
    const credit = new Float64Array(n);
    let maxWeight = 0;
    for (const e of sorted) maxWeight = Math.max(maxWeight, endpointWeight(e));
    for (let i = 0; i < n; i++) {
      const e = sorted[i]!;
      offset[i] = hashString(e.id) % m;
      skip[i] = (hashString(`${e.id}#skip`) % (m - 1)) + 1;
      share[i] = endpointWeight(e) / maxWeight;
    }
    let filled = 0;
    while (filled < m) {
      for (let i = 0; i < n && filled < m; i++) {
        credit[i] = credit[i]! + share[i]!;
        if (credit[i]! < 1) continue;
        credit[i] = credit[i]! - 1;
        let slot = (offset[i]! + next[i]! * skip[i]!) % m;
        while (this.table[slot]! >= 0) {
          next[i] = next[i]! + 1;
          slot = (offset[i]! + next[i]! * skip[i]!) % m;
        }
        this.table[slot] = i;
        next[i] = next[i]! + 1;
        filled++;
      }
    }
  }

  /** Table size actually used (prime). */
  get size(): number {
    return this.table.length;
  }

  pick(hash: number | undefined, avoid: E | undefined, panic: boolean): E | undefined {
    const eps = this.endpoints;
    if (eps.length === 0) return undefined;
    const h = hash === undefined ? Math.floor(this.rng() * 4294967296) : hash >>> 0;
    const slot = h % this.table.length;
    const e = eps[this.table[slot]!]!;
    if ((panic || e.available) && e !== avoid) return e;
    return walkClockwise(eps, this.table, slot, avoid, panic);
  }
}

function nextPrime(n: number): number {
  let c = Math.ceil(n);
  if (c <= 2) return 2;
  if (c % 2 === 0) c++;
  for (;; c += 2) {
    let prime = true;
    for (let d = 3; d * d <= c; d += 2) {
      if (c % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) return c;
  }
}
