/**
 * Route-level traffic split (VirtualService `route[].weight`) by smooth
 * weighted round robin: deterministic and exact, so 80/20 over 1,000 requests
 * is 800/200 and 90/10 over 100 is 90/10, with the minority interleaved rather
 * than bunched. Zero-weight entries are never chosen (Istio's rule). Weights
 * need not sum to 100; only their ratios matter.
 *
 * Stateful (the running weights): one instance per route destination list,
 * built at snapshot compile and used only by that snapshot's requests.
 */
export class WeightedSplit<T> {
  private readonly items: T[];
  private readonly weights: Float64Array;
  private readonly current: Float64Array;
  private readonly total: number;
  private readonly first: T;
  private readonly single: boolean;

  constructor(entries: readonly { readonly item: T; readonly weight: number }[]) {
    const head = entries[0];
    if (head === undefined) throw new RangeError('WeightedSplit needs at least one entry');
    // A lone destination takes all traffic whatever its weight says (Istio ignores it too).
    const kept = entries.length === 1 ? entries : entries.filter((e) => e.weight > 0);
    const firstKept = kept[0];
    if (firstKept === undefined) throw new RangeError('WeightedSplit: every weight is 0');
    this.items = kept.map((e) => e.item);
    this.weights = Float64Array.from(kept, (e) => (kept.length === 1 ? 1 : e.weight));
    this.current = new Float64Array(kept.length);
    let total = 0;
    for (const w of this.weights) total += w;
    this.total = total;
    this.first = firstKept.item;
    this.single = kept.length === 1;
  }

  /** Number of entries that can be chosen (weight > 0). */
  get size(): number {
    return this.items.length;
  }

  next(): T {
    if (this.single) return this.first;
    const cur = this.current;
    const weights = this.weights;
    let best = 0;
    let bestValue = -Infinity;
    for (let i = 0; i < cur.length; i++) {
      const c = cur[i]! + weights[i]!;
      cur[i] = c;
      if (c > bestValue) {
        bestValue = c;
        best = i;
      }
    }
    cur[best] = bestValue - this.total;
    return this.items[best]!;
  }
}
