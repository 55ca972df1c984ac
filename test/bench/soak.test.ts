import { describe, expect, it } from 'vitest';
import { floors, slope } from './soak.js';

describe('soak slope', () => {
  it('fits a least-squares slope', () => {
    expect(slope([0, 1, 2, 3], [10, 12, 14, 16])).toBeCloseTo(2);
    expect(slope([0, 1, 2], [5, 5, 5])).toBe(0);
    expect(Number.isNaN(slope([1], [1]))).toBe(true);
  });

  it('a GC saw-tooth with a flat floor has a flat fit; a rising floor does not', () => {
    const saw = Array.from({ length: 24 }, (_, i) => ({ tSec: i * 5, rssMiB: 90, heapUsedMiB: 20 + (i % 6) * 8 }));
    const flat = floors(saw, 6);
    expect(slope(flat.map((s) => s.tSec), flat.map((s) => s.heapUsedMiB))).toBeCloseTo(0);
    const leak = saw.map((s) => ({ ...s, heapUsedMiB: s.heapUsedMiB + s.tSec / 10 }));
    const rising = floors(leak, 6);
    expect(slope(rising.map((s) => s.tSec), rising.map((s) => s.heapUsedMiB))).toBeGreaterThan(0.05);
  });
});
