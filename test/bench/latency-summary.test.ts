import { describe, expect, it } from 'vitest';
import { median, spread, summarize } from './latency-summary.js';

describe('summarize', () => {
  const cases: { name: string; samples: number[]; p50: number; p99: number; max: number }[] = [
    { name: '1..100', samples: Array.from({ length: 100 }, (_, i) => i + 1), p50: 50, p99: 99, max: 100 },
    { name: 'unsorted with outlier', samples: [5, 1, 3, 1000, 2, 4], p50: 3, p99: 1000, max: 1000 },
    { name: 'single', samples: [7], p50: 7, p99: 7, max: 7 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const arr = new Float64Array(c.samples.length + 10); // trailing slack must be ignored
      arr.set(c.samples);
      const s = summarize(arr, c.samples.length);
      expect([s.p50Us, s.p99Us, s.maxUs, s.count]).toEqual([c.p50, c.p99, c.max, c.samples.length]);
    });
  }
  it('empty gives NaN', () => expect(summarize(new Float64Array(4), 0).p50Us).toBeNaN());
});

describe('median and spread', () => {
  const cases: { xs: number[]; median: number; spread: number }[] = [
    { xs: [3, 1, 2], median: 2, spread: 1 },
    { xs: [10, 20], median: 15, spread: 10 / 15 },
    { xs: [5, NaN, 5], median: 5, spread: 0 },
    { xs: [], median: NaN, spread: 0 },
  ];
  for (const c of cases) {
    it(JSON.stringify(c.xs), () => {
      expect(median(c.xs)).toEqual(c.median);
      expect(spread(c.xs)).toBeCloseTo(c.spread, 10);
    });
  }
});
