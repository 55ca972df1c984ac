import { describe, expect, it } from 'vitest';
import { LeastRequestPicker } from './least-request.js';
import { seededRandom as mulberry32 } from '../../../test/support/seeded-random.js';

interface Ep { id: string; weight: number; active: number; available: boolean }
const ep = (id: string, weight = 1, active = 0, available = true): Ep => ({ id, weight, active, available });


function tally(p: LeastRequestPicker<Ep>, n: number, avoid?: Ep, panic = false): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = p.pick(undefined, avoid, panic)?.id ?? 'none';
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

describe('LeastRequestPicker, equal weights (P2C)', () => {
  it('steers away from a busy endpoint', () => {
    const eps = [ep('busy', 1, 50), ep('b'), ep('c'), ep('d')];
    const c = tally(new LeastRequestPicker(eps, mulberry32(1)), 4000);
    // busy only wins when drawn twice, which P2C never does (distinct pair)
    expect(c.get('busy')).toBeUndefined();
    for (const id of ['b', 'c', 'd']) expect(c.get(id)).toBeGreaterThan(1100);
  });

  it('spreads ties evenly', () => {
    const eps = [ep('a'), ep('b'), ep('c')];
    const c = tally(new LeastRequestPicker(eps, mulberry32(2)), 3000);
    for (const id of ['a', 'b', 'c']) expect(Math.abs((c.get(id) ?? 0) - 1000)).toBeLessThan(120);
  });

  it.each([
    { name: 'sampling path', n: 4, down: [1] },
    { name: 'scan path (most down)', n: 50, down: Array.from({ length: 48 }, (_, i) => i) },
  ])('never picks unavailable: $name', ({ n, down }) => {
    const eps = Array.from({ length: n }, (_, i) => ep(`e${i}`, 1, down.includes(i) ? 0 : 100));
    for (const i of down) eps[i]!.available = false;
    const c = tally(new LeastRequestPicker(eps, mulberry32(3)), 2000);
    for (const i of down) expect(c.get(`e${i}`)).toBeUndefined();
    expect(c.get('none')).toBeUndefined();
  });

  it('avoid honoured unless it is the only eligible endpoint; panic ignores availability', () => {
    const eps = [ep('a'), ep('b', 1, 10), ep('c')];
    eps[2]!.available = false;
    const p = new LeastRequestPicker(eps, mulberry32(4));
    expect(tally(p, 200, eps[0]).get('b')).toBe(200);
    eps[1]!.available = false;
    expect(p.pick(undefined, eps[0], false)).toBe(eps[0]);
    eps[0]!.available = false;
    expect(p.pick(undefined, undefined, false)).toBeUndefined();
    eps[1]!.active = 0;
    expect(tally(p, 300, undefined, true).size).toBe(3);
  });
});

describe('LeastRequestPicker, unequal weights (weight / (active + 1))', () => {
  it.each([
    // effective weights 2/1 : 1/1 = 2:1
    { name: 'idle', eps: [ep('a', 2), ep('b', 1)], picks: 300, want: { a: 200, b: 100 } },
    // 3/(2+1) : 1/(0+1) = 1:1
    { name: 'busy heavy endpoint', eps: [ep('a', 3, 2), ep('b', 1, 0)], picks: 200, want: { a: 100, b: 100 } },
    // 4/1 : 1/4 = 16:1
    { name: 'busy light endpoint', eps: [ep('a', 4), ep('b', 1, 3)], picks: 170, want: { a: 160, b: 10 } },
  ])('$name', ({ eps, picks, want }) => {
    const c = tally(new LeastRequestPicker(eps, mulberry32(5)), picks);
    for (const [id, n] of Object.entries(want)) expect(Math.abs((c.get(id) ?? 0) - n)).toBeLessThanOrEqual(1);
  });

  it('skips unavailable and avoid', () => {
    const eps = [ep('a', 2), ep('b', 1), ep('c', 3)];
    eps[2]!.available = false;
    const c = tally(new LeastRequestPicker(eps, mulberry32(6)), 100, eps[0]);
    expect(c.get('b')).toBe(100);
  });
});
