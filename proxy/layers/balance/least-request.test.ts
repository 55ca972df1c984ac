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

describe('LeastRequestPicker, unequal weights: EDF schedule at scale', () => {
  const fleet = (n: number): Ep[] => Array.from({ length: n }, (_, i) => ep(`e${i}`, 1 + (i % 4)));

  it('1,000 idle endpoints: every share is its weight share, within 2 picks', () => {
    const eps = fleet(1000);
    const total = eps.reduce((s, e) => s + e.weight, 0);
    const picks = 100 * total;
    const c = tally(new LeastRequestPicker(eps, mulberry32(7)), picks);
    let worst = 0;
    for (const e of eps) worst = Math.max(worst, Math.abs((c.get(e.id) ?? 0) - 100 * e.weight));
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('active requests lower an endpoint\'s share: weight / (active + 1)', () => {
    // a: 4 / (3 + 1) = 1, b: 2 / 1 = 2, c: 1 / 1 = 1 → 1:2:1
    const eps = [ep('a', 4, 3), ep('b', 2), ep('c', 1)];
    const c = tally(new LeastRequestPicker(eps, mulberry32(8)), 4000);
    expect(Math.abs((c.get('a') ?? 0) - 1000)).toBeLessThanOrEqual(2);
    expect(Math.abs((c.get('b') ?? 0) - 2000)).toBeLessThanOrEqual(2);
    expect(Math.abs((c.get('c') ?? 0) - 1000)).toBeLessThanOrEqual(2);
  });

  it('a slow endpoint accumulates requests in flight and gets fewer new ones (closed-loop simulation)', () => {
    // 9 endpoints of weight 1..3; e0 (weight 3) answers 10x slower. Each step
    // starts one request; requests finish after their endpoint's service time.
    const eps = Array.from({ length: 9 }, (_, i) => ep(`e${i}`, 1 + (i % 3)));
    const p = new LeastRequestPicker(eps, mulberry32(9));
    const finishing: { at: number; e: Ep }[] = [];
    const sent = new Map<string, number>();
    for (let t = 0; t < 20_000; t++) {
      for (let k = finishing.length - 1; k >= 0; k--) {
        if (finishing[k]!.at <= t) {
          finishing[k]!.e.active--;
          finishing.splice(k, 1);
        }
      }
      const e = p.pick(undefined, undefined, false)!;
      e.active++;
      sent.set(e.id, (sent.get(e.id) ?? 0) + 1);
      finishing.push({ at: t + (e.id === 'e0' ? 40 : 4), e });
    }
    // Weight alone would give e0 (weight 3) as much as e3 and e6; the bias gives it about half.
    expect(sent.get('e0')!).toBeLessThan(0.6 * sent.get('e3')!);
    expect(sent.get('e0')!).toBeGreaterThan(0);
    // Equal-speed endpoints of the same weight get about the same.
    expect(Math.abs(sent.get('e3')! - sent.get('e6')!)).toBeLessThan(sent.get('e3')! / 10);
  });

  it('ejected endpoints get nothing and the rest keep their weight shares', () => {
    const eps = fleet(100);
    for (let i = 0; i < 100; i += 2) eps[i]!.available = false; // every weight-1 and weight-3 endpoint
    const c = tally(new LeastRequestPicker(eps, mulberry32(10)), 30_000);
    for (let i = 0; i < 100; i += 2) expect(c.get(`e${i}`)).toBeUndefined();
    // left: weights 2 and 4 (25 each, total 150): 200 picks per unit of weight
    for (let i = 1; i < 100; i += 2) expect(Math.abs((c.get(`e${i}`) ?? 0) - 200 * eps[i]!.weight)).toBeLessThanOrEqual(2);
  });

  it('nearly everything ejected: still finds the one eligible endpoint, never the ejected ones', () => {
    const eps = [ep('heavy', 1000), ...Array.from({ length: 20 }, (_, i) => ep(`x${i}`, 1000)), ep('light', 1)];
    for (const e of eps) if (e.id !== 'light') e.available = false;
    const c = tally(new LeastRequestPicker(eps, mulberry32(11)), 500);
    expect(c.get('light')).toBe(500);
  });

  it('avoid is passed over while another endpoint is eligible, returned when it is the only one', () => {
    const eps = fleet(10);
    const p = new LeastRequestPicker(eps, mulberry32(12));
    for (let i = 0; i < 500; i++) expect(p.pick(undefined, eps[3], false)).not.toBe(eps[3]);
    for (const e of eps) if (e !== eps[3]) e.available = false;
    expect(p.pick(undefined, eps[3], false)).toBe(eps[3]);
    eps[3]!.available = false;
    expect(p.pick(undefined, eps[3], false)).toBeUndefined();
    expect(tally(p, 100, undefined, true).size).toBe(10);
  });

  it('two pickers seeded differently start on different endpoints', () => {
    const eps = fleet(1000);
    const firsts = new Set([1, 2, 3, 4, 5].map((s) => new LeastRequestPicker(eps, mulberry32(100 + s)).pick(undefined, undefined, false)!.id));
    expect(firsts.size).toBeGreaterThan(1);
  });
});
