import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles the ceiling up to the cap, with full jitter', () => {
    const top = new Backoff(250, 2000, () => 0.999999);
    expect([1, 2, 3, 4, 5].map(() => top.next())).toEqual([249, 499, 999, 1999, 1999]);
    const bottom = new Backoff(250, 2000, () => 0);
    expect(bottom.next()).toBe(0);
  });
  it('reset starts over', () => {
    const b = new Backoff(100, 10_000, () => 0.5);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(50);
  });
});
