// Earliest-deadline-first schedule over endpoint indices, Envoy's weighted
// round robin (source/common/upstream/edf_scheduler.h): each entry has a
// deadline; a pick takes the earliest and files it again at that deadline +
// 1 / weight, with the weight the caller computes *now* (least request divides
// by active requests + 1). Equal deadlines go first-in first-out. A binary
// min-heap in typed arrays: O(log n) per pick, no allocation.
export class EdfScheduler {
  /** Heap of entry indices, earliest deadline at 0. */
  private readonly heap: Int32Array;
  /** Where each entry sits in the heap. */
  private readonly pos: Int32Array;
  private readonly deadline: Float64Array;
  /** Insertion sequence, the FIFO tie-break for equal deadlines. */
  private readonly seq: Float64Array;
  private nextSeq = 0;

  /**
   * @param weights initial weight of each entry (> 0)
   * @param phase   a number in [0, 1) per entry: the first deadline is
   *   phase / weight, so sidecars seeded differently do not all start on the
   *   same endpoint (Envoy seeds its schedule with a random number of picks)
   */
  constructor(weights: Float64Array, phase: () => number) {
    const n = weights.length;
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n);
    this.deadline = new Float64Array(n);
    this.seq = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.deadline[i] = phase() / weights[i]!;
      this.seq[i] = this.nextSeq++;
      this.heap[i] = i;
      this.pos[i] = i;
    }
    for (let k = (n >> 1) - 1; k >= 0; k--) this.siftDown(k);
  }

  get size(): number {
    return this.heap.length;
  }

  /** The entry with the earliest deadline. */
  top(): number {
    return this.heap[0]!;
  }

  /** The entry's deadline (for a caller looking past the heap's order). */
  deadlineOf(entry: number): number {
    return this.deadline[entry]!;
  }

  /** File `entry` again one period of `weight` after its deadline (Envoy's pickAndAdd). */
  advance(entry: number, weight: number): void {
    this.deadline[entry] = this.deadline[entry]! + 1 / weight;
    this.seq[entry] = this.nextSeq++;
    this.siftDown(this.pos[entry]!);
  }

  private before(a: number, b: number): boolean {
    const da = this.deadline[a]!;
    const db = this.deadline[b]!;
    return da < db || (da === db && this.seq[a]! < this.seq[b]!);
  }

  private siftDown(k: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[k]!;
    for (;;) {
      const l = 2 * k + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && this.before(heap[r]!, heap[l]!) ? r : l;
      const c = heap[child]!;
      if (!this.before(c, entry)) break;
      heap[k] = c;
      this.pos[c] = k;
      k = child;
    }
    heap[k] = entry;
    this.pos[entry] = k;
  }
}
