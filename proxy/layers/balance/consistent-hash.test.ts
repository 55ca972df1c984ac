// Ring hash and maglev share one contract, so one table drives both.
import { describe, expect, it } from 'vitest';
import { hashString } from './hash-string.js';
import { MaglevPicker } from './maglev.js';
import type { Picker } from './pickable.js';
import { RingHashPicker } from './ring-hash.js';

interface Ep { id: string; weight: number; active: number; available: boolean }
const ep = (id: string, weight = 1): Ep => ({ id, weight, active: 0, available: true });
const endpoints = (n: number): Ep[] => Array.from({ length: n }, (_, i) => ep(`10.0.0.${i + 1}:8080`));
const KEYS = Array.from({ length: 10000 }, (_, i) => hashString(`user-${i}`));

const kinds: { name: string; build: (eps: readonly Ep[]) => Picker<Ep>; moveTolerance: number; survivorMoves: number }[] = [
  { name: 'ring hash', build: (eps) => new RingHashPicker(eps, 1024, () => 0.5), moveTolerance: 0.03, survivorMoves: 0 },
  // Maglev trades a little extra disruption for speed: a few survivors' slots change hands.
  { name: 'maglev', build: (eps) => new MaglevPicker(eps, 65537, () => 0.5), moveTolerance: 0.03, survivorMoves: 0.02 },
];

function assign(p: Picker<Ep>): string[] {
  return KEYS.map((h) => p.pick(h, undefined, false)!.id);
}

describe.each(kinds)('$name', ({ build, moveTolerance, survivorMoves }) => {
  it('is sticky per key and independent of endpoint order', () => {
    const eps = endpoints(5);
    const a = assign(build(eps));
    expect(assign(build(eps))).toEqual(a);
    expect(assign(build(eps.slice().reverse()))).toEqual(a);
  });

  it('spreads keys roughly evenly', () => {
    const counts = new Map<string, number>();
    for (const id of assign(build(endpoints(5)))) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const n of counts.values()) expect(Math.abs(n / KEYS.length - 0.2)).toBeLessThan(0.06);
  });

  it('moves about 1/N keys when one of N endpoints is removed', () => {
    const eps = endpoints(5);
    const before = assign(build(eps));
    const removed = eps[2]!.id;
    const after = assign(build(eps.filter((e) => e.id !== removed)));
    let moved = 0;
    let movedFromSurvivor = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] !== after[i]) {
        moved++;
        if (before[i] !== removed) movedFromSurvivor++;
      }
    }
    expect(Math.abs(moved / KEYS.length - 1 / 5)).toBeLessThan(moveTolerance);
    expect(movedFromSurvivor / KEYS.length).toBeLessThanOrEqual(survivorMoves);
  });

  it('follows weights', () => {
    const eps = [ep('a:1', 3), ep('b:1', 1)];
    const counts = new Map<string, number>();
    for (const id of assign(build(eps))) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(Math.abs((counts.get('a:1') ?? 0) / KEYS.length - 0.75)).toBeLessThan(0.07);
  });

  it('skips unavailable without moving other keys; honours avoid; panic ignores availability', () => {
    const eps = endpoints(5);
    const p = build(eps);
    const before = assign(p);
    const down = eps[1]!;
    down.available = false;
    const after = assign(p);
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === down.id) expect(after[i]).not.toBe(down.id);
      else expect(after[i]).toBe(before[i]);
    }
    // displaced keys spread over more than one survivor
    expect(new Set(after.filter((_, i) => before[i] === down.id)).size).toBeGreaterThan(1);
    const key = KEYS.findIndex((_, i) => before[i] === down.id);
    expect(p.pick(KEYS[key], undefined, true)).toBe(down);
    const other = p.pick(KEYS[0], undefined, false)!;
    const avoided = p.pick(KEYS[0], other, false)!;
    expect(avoided).not.toBe(other);
    expect(avoided.available).toBe(true);
    for (const e of eps) e.available = false;
    expect(p.pick(KEYS[0], undefined, false)).toBeUndefined();
    eps[3]!.available = true;
    expect(p.pick(KEYS[0], eps[3], false)).toBe(eps[3]);
  });

  it('no hash → some endpoint; empty set → undefined', () => {
    expect(build(endpoints(3)).pick(undefined, undefined, false)).toBeDefined();
    expect(build([]).pick(1, undefined, false)).toBeUndefined();
  });
});

describe('table sizes', () => {
  it.each([
    { n: 5, min: 1024, want: 5 * 256 },
    { n: 4, min: 1024, want: 4 * 256 },
    { n: 3, min: 1024, want: 3 * 512 },
    { n: 1000, min: 1024, want: 2000 },
  ])('ring of $n endpoints, min $min → $want points', ({ n, min, want }) => {
    expect(new RingHashPicker(endpoints(n), min).size).toBe(want);
  });

  it.each([
    { size: 65537, want: 65537 },
    { size: 1000, want: 1009 },
  ])('maglev table $size → prime $want', ({ size, want }) => {
    expect(new MaglevPicker(endpoints(3), size).size).toBe(want);
  });
});
