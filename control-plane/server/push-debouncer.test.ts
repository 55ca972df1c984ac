import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PushDebouncer } from './push-debouncer.js';

describe('PushDebouncer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const cases: { name: string; events: number[]; quiet: number; max: number; at: number; fired: number }[] = [
    { name: 'one event fires after quiet', events: [0], quiet: 100, max: 10_000, at: 100, fired: 1 },
    { name: 'not before quiet', events: [0], quiet: 100, max: 10_000, at: 99, fired: 0 },
    { name: 'a burst collapses into one push', events: [0, 50, 90, 150], quiet: 100, max: 10_000, at: 260, fired: 1 },
    { name: 'burst still going: nothing yet', events: [0, 50, 90, 150], quiet: 100, max: 10_000, at: 240, fired: 0 },
    { name: 'steady trickle is capped by max', events: [0, 80, 160, 240], quiet: 100, max: 300, at: 300, fired: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let fired = 0;
      const d = new PushDebouncer(() => fired++, c.quiet, c.max);
      let now = 0;
      for (const t of c.events) {
        vi.advanceTimersByTime(t - now);
        now = t;
        d.trigger();
      }
      vi.advanceTimersByTime(c.at - now);
      expect(fired).toBe(c.fired);
      d.cancel();
    });
  }
});
