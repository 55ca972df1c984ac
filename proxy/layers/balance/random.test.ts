import { describe, expect, it } from 'vitest';
import { RandomPicker } from './random.js';
import { seededRandom as mulberry32 } from '../../../test/support/seeded-random.js';

interface Ep { id: string; weight: number; active: number; available: boolean }
const ep = (id: string, weight = 1): Ep => ({ id, weight, active: 0, available: true });


describe('RandomPicker', () => {
  it.each([
    { name: 'equal', weights: [1, 1, 1, 1] },
    { name: 'weighted 1:3', weights: [1, 3] },
    { name: 'weighted 1:2:7', weights: [1, 2, 7] },
  ])('follows weights ($name)', ({ weights }) => {
    const eps = weights.map((w, i) => ep(`e${i}`, w));
    const p = new RandomPicker(eps, mulberry32(7));
    const n = 20000;
    const c = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const id = p.pick(undefined, undefined, false)!.id;
      c.set(id, (c.get(id) ?? 0) + 1);
    }
    const total = weights.reduce((a, b) => a + b, 0);
    eps.forEach((e, i) => expect(Math.abs((c.get(e.id) ?? 0) / n - weights[i]! / total)).toBeLessThan(0.02));
  });

  it('skips unavailable, avoids, panics', () => {
    const eps = [ep('a', 5), ep('b', 1), ep('c', 1)];
    eps[0]!.available = false;
    const p = new RandomPicker(eps, mulberry32(8));
    for (let i = 0; i < 200; i++) expect(p.pick(undefined, eps[1], false)).toBe(eps[2]);
    eps[2]!.available = false;
    expect(p.pick(undefined, eps[1], false)).toBe(eps[1]);
    eps[1]!.available = false;
    expect(p.pick(undefined, undefined, false)).toBeUndefined();
    expect(p.pick(undefined, undefined, true)).toBeDefined();
  });
});
