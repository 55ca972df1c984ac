import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  const cases: [string, number | undefined][] = [
    ['1.5s', 1500],
    ['100ms', 100],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0.5s', 500],
    ['1m30s', 90_000],
    ['0s', 0],
    ['0', 0],
    ['250us', 0],
    ['1500000ns', 2],
    ['', undefined],
    ['10', undefined],
    ['1.5', undefined],
    ['s', undefined],
    ['-1s', undefined],
    ['1d', undefined],
    ['1s ', undefined],
    ['abc', undefined],
  ];
  it.each(cases)('%j → %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});
