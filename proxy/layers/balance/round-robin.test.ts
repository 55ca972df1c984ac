import { describe, expect, it } from 'vitest';
import { RoundRobinPicker } from './round-robin.js';

interface Ep { id: string; weight: number; active: number; available: boolean }
const ep = (id: string, weight = 1, available = true): Ep => ({ id, weight, active: 0, available });

function counts(picker: RoundRobinPicker<Ep>, n: number, avoid?: Ep, panic = false): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const e = picker.pick(undefined, avoid, panic);
    const k = e?.id ?? 'none';
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

describe('RoundRobinPicker', () => {
  it.each([
    { name: 'equal weights exactly even', weights: [1, 1, 1], picks: 300, want: [100, 100, 100] },
    { name: 'weighted 3:1 exact', weights: [3, 1], picks: 400, want: [300, 100] },
    { name: 'weighted 5:3:2 exact', weights: [5, 3, 2], picks: 1000, want: [500, 300, 200] },
    { name: 'weighted with common divisor 200:100', weights: [200, 100], picks: 30, want: [20, 10] },
    { name: 'non-integer weights (scan path) 3:1.5', weights: [3, 1.5], picks: 297, want: [198, 99] },
    { name: 'cycle too long to precompute (scan path)', weights: [70001, 70000], picks: 1000, want: [500, 500] },
  ])('$name', ({ weights, picks, want }) => {
    const eps = weights.map((w, i) => ep(`e${i}`, w));
    const c = counts(new RoundRobinPicker(eps), picks);
    expect(eps.map((e) => c.get(e.id) ?? 0)).toEqual(want);
  });

  it('smooth: 5:1:1 interleaves instead of running 5 in a row', () => {
    const eps = [ep('a', 5), ep('b', 1), ep('c', 1)];
    const p = new RoundRobinPicker(eps);
    const seq = Array.from({ length: 7 }, () => p.pick(undefined, undefined, false)!.id).join('');
    expect(seq).not.toContain('aaaa');
    expect(seq.split('a').length - 1).toBe(5);
  });

  it('rotates in order with equal weights', () => {
    const p = new RoundRobinPicker([ep('a'), ep('b'), ep('c')]);
    const seq = Array.from({ length: 6 }, () => p.pick(undefined, undefined, false)!.id).join('');
    expect(seq).toBe('abcabc');
  });

  it.each([
    { name: 'equal', weights: [1, 1, 1] },
    { name: 'weighted', weights: [2, 1, 1] },
    { name: 'weighted, scan path', weights: [2.5, 1, 1] },
  ])('skips unavailable, honours avoid, panic ignores availability ($name)', ({ weights }) => {
    const eps = weights.map((w, i) => ep(`e${i}`, w));
    eps[1]!.available = false;
    const p = new RoundRobinPicker(eps);
    const c = counts(p, 90);
    expect(c.get('e1')).toBeUndefined();
    // avoid e0: only e2 is eligible besides it
    expect(counts(p, 10, eps[0]).get('e2')).toBe(10);
    // avoid is still returned when it is the only eligible one
    eps[2]!.available = false;
    expect(p.pick(undefined, eps[0], false)).toBe(eps[0]);
    eps[0]!.available = false;
    expect(p.pick(undefined, undefined, false)).toBeUndefined();
    expect(counts(p, 30, undefined, true).size).toBe(3);
  });

  it('single endpoint and empty set', () => {
    const only = ep('a');
    expect(new RoundRobinPicker([only]).pick(undefined, undefined, false)).toBe(only);
    only.available = false;
    expect(new RoundRobinPicker([only]).pick(undefined, undefined, false)).toBeUndefined();
    expect(new RoundRobinPicker([only]).pick(undefined, undefined, true)).toBe(only);
    expect(new RoundRobinPicker<Ep>([]).pick(undefined, undefined, false)).toBeUndefined();
  });
});
