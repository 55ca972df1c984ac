import { describe, expect, it } from 'vitest';
import { busiestTimeWaitDestination, ephemeralRangeSize } from './time-wait.js';

describe('TIME_WAIT pressure parsing', () => {
  it('counts TIME_WAIT sockets per destination and returns the busiest', () => {
    const ss = [
      '0      0      10.244.0.50:41116 10.244.0.51:7100',
      '0      0      10.244.0.50:41117 10.244.0.51:7100',
      '0      0      10.244.0.50:41118 10.244.0.51:7101',
      '0      0      [fd00::50]:41119 [fd00::51]:7100',
      '',
    ].join('\n');
    expect(busiestTimeWaitDestination(ss)).toEqual({ destination: '10.244.0.51:7100', count: 2 });
    expect(busiestTimeWaitDestination('')).toEqual({ destination: '', count: 0 });
  });

  it('reads the ephemeral range size and refuses garbage', () => {
    expect(ephemeralRangeSize('32768\t60999\n')).toBe(28232);
    expect(() => ephemeralRangeSize('nope')).toThrow(/ip_local_port_range/);
    expect(() => ephemeralRangeSize('5 4')).toThrow(/ip_local_port_range/);
  });
});
