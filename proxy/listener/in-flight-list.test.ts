import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InFlightList } from './in-flight-list.js';

describe('InFlightList', () => {
  it('behaves as a Set (membership, size, newest-first order) under any sequence of adds and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(15)), { maxLength: 200 }), (ops) => {
        const items = Array.from({ length: 16 }, (_, i) => ({ i }));
        const list = new InFlightList<{ i: number }>();
        const model: { i: number }[] = [];
        for (const [add, k] of ops) {
          const x = items[k]!;
          if (add) {
            list.add(x);
            if (!model.includes(x)) model.unshift(x);
          } else {
            expect(list.delete(x)).toBe(model.includes(x));
            const at = model.indexOf(x);
            if (at >= 0) model.splice(at, 1);
          }
          expect(list.size).toBe(model.length);
          expect([...list]).toEqual(model);
          for (const y of items) expect(list.has(y)).toBe(model.includes(y));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('lets members be deleted while iterating, and clear() empties it', () => {
    const items = Array.from({ length: 6 }, (_, i) => ({ i }));
    const list = new InFlightList<{ i: number }>();
    for (const x of items) list.add(x);
    const seen: number[] = [];
    for (const x of list) {
      seen.push(x.i);
      list.delete(x);
    }
    expect(seen).toEqual([5, 4, 3, 2, 1, 0]);
    expect(list.size).toBe(0);
    for (const x of items) list.add(x);
    list.clear();
    expect(list.size).toBe(0);
    expect([...list]).toEqual([]);
    expect(items.some((x) => list.has(x))).toBe(false);
  });

  it('keeps one object in two lists independently', () => {
    const a = new InFlightList<object>();
    const b = new InFlightList<object>();
    const x = {};
    a.add(x);
    b.add(x);
    a.delete(x);
    expect(a.has(x)).toBe(false);
    expect(b.has(x)).toBe(true);
    expect(b.size).toBe(1);
  });
});
