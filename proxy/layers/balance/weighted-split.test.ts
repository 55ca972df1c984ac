import { describe, expect, it } from 'vitest';
import { WeightedSplit } from './weighted-split.js';

function run(weights: number[], n: number): number[] {
  const s = new WeightedSplit(weights.map((weight, item) => ({ item, weight })));
  const out = weights.map(() => 0);
  for (let i = 0; i < n; i++) out[s.next()]!++;
  return out;
}

describe('WeightedSplit', () => {
  it.each([
    { weights: [80, 20], n: 1000, want: [800, 200] },
    { weights: [90, 10], n: 100, want: [90, 10] },
    { weights: [50, 30, 20], n: 100, want: [50, 30, 20] },
    { weights: [33, 33, 34], n: 1000, want: [330, 330, 340] },
    { weights: [1, 1, 1], n: 9, want: [3, 3, 3] },
    { weights: [100, 0], n: 50, want: [50, 0] },
    { weights: [0], n: 5, want: [5] },
  ])('$weights over $n → $want', ({ weights, n, want }) => {
    expect(run(weights, n)).toEqual(want);
  });

  it('interleaves the minority (90/10 never runs 10 in a row of the minority or 20 of the majority)', () => {
    const s = new WeightedSplit([{ item: 'a', weight: 90 }, { item: 'b', weight: 10 }]);
    const seq = Array.from({ length: 100 }, () => s.next()).join('');
    expect(seq).not.toContain('bb');
    expect(seq).not.toContain('a'.repeat(11));
  });

  it('single item returns it', () => {
    const s = new WeightedSplit([{ item: 'only', weight: 7 }]);
    expect([s.next(), s.next()]).toEqual(['only', 'only']);
  });

  it.each([{ entries: [] }, { entries: [{ item: 1, weight: 0 }, { item: 2, weight: 0 }] }])('rejects $entries', ({ entries }) => {
    expect(() => new WeightedSplit(entries)).toThrow(RangeError);
  });
});
