import { describe, expect, it } from 'vitest';
import { FaultLayer, MAX_HEADER_DELAY_MS } from './index.js';

const rng = (): number => 0;

describe('header-requested fault delays', () => {
  it('are capped by the route timeout, or by the documented maximum; a timer-overflowing value is capped, not wrapped', () => {
    const h = (v: string) => ({ 'x-envoy-fault-delay-request': v });
    const withTimeout = new FaultLayer({ headerControlled: true }, 'r', 2_000);
    expect(withTimeout.delayFor(h('500'), rng)).toBe(500);
    expect(withTimeout.delayFor(h('60000'), rng)).toBe(2_000);
    const noTimeout = new FaultLayer({ headerControlled: true }, 'r');
    expect(noTimeout.delayFor(h('1e12'), rng)).toBe(MAX_HEADER_DELAY_MS);
    expect(noTimeout.delayFor(h('4294967296'), rng)).toBe(MAX_HEADER_DELAY_MS);
    expect(noTimeout.delayFor(h('-5'), rng)).toBe(0);
  });
});
