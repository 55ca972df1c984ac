// Outlier detection's timing, on an injected clock (vitest's fake timers drive
// setTimeout, setInterval and Date, which opossum and the detector read): the
// ejection lasts exactly base × multiplier, a failed half-open trial ejects
// again for twice as long, and the multiplier decays one step per interval
// spent healthy. The behaviour through a real proxy is in
// test/integration/resilience-outlier.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClusterModel } from '../config/model/index.js';
import { ClusterRuntime } from './cluster.js';
import type { Endpoint } from './endpoint.js';
import { OutlierDetector } from './outlier.js';

const BASE = 1000;
const INTERVAL = 1000;

function cluster(): ClusterRuntime {
  const model: ClusterModel = {
    name: 'outbound|9080||svc',
    host: 'svc.default.svc.cluster.local',
    port: 9080,
    discovery: 'static',
    endpoints: [
      { address: '10.0.0.1', port: 9080, labels: {}, weight: 1 },
      { address: '10.0.0.2', port: 9080, labels: {}, weight: 1 },
    ],
    policy: {
      lb: { kind: 'round_robin' },
      outlierDetection: { consecutive5xxErrors: 3, consecutiveGatewayErrors: 0, intervalMs: INTERVAL, baseEjectionTimeMs: BASE, maxEjectionPercent: 100, minHealthPercent: 0 },
    },
  };
  return new ClusterRuntime(model);
}

let od: OutlierDetector;
let c: ClusterRuntime;
let bad: Endpoint;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  od = new OutlierDetector(() => undefined);
  c = cluster();
  bad = c.endpoints[0]!;
});

afterEach(() => {
  od.close();
  c.close();
  vi.useRealTimers();
});

function eject(): void {
  for (let i = 0; i < 3; i++) od.record(c, bad, 503);
  expect(bad.available).toBe(false);
}

/** How long the endpoint stays ejected, in ms of the injected clock (1 ms resolution). */
async function ejectionLasts(): Promise<number> {
  let ms = 0;
  while (!bad.available && ms < 10 * BASE) {
    await vi.advanceTimersByTimeAsync(1);
    ms++;
  }
  return ms;
}

describe('outlier detection timing (injected clock)', () => {
  it('ejects for base, then 2 × base after a failed half-open trial; a good trial closes it', async () => {
    eject();
    expect(c.ejected).toBe(1);
    expect(await ejectionLasts()).toBe(BASE);
    expect(od.stateOf(bad)).toBe('half_open');
    expect(c.ejected).toBe(0);
    od.record(c, bad, 503); // the trial fails
    expect(bad.state).toBe('ejected: failed half-open trial');
    expect(await ejectionLasts()).toBe(2 * BASE);
    od.record(c, bad, 200); // the trial succeeds
    expect(od.stateOf(bad)).toBe('closed');
    expect(bad.state).toBe('healthy');
  });

  it('the multiplier decays one step per interval spent healthy', async () => {
    eject();
    expect(await ejectionLasts()).toBe(BASE);
    od.record(c, bad, 200);
    eject(); // right away again: 2 × base
    expect(await ejectionLasts()).toBe(2 * BASE);
    od.record(c, bad, 200);
    await vi.advanceTimersByTimeAsync(INTERVAL); // one interval healthy: one step back
    eject();
    expect(await ejectionLasts()).toBe(2 * BASE);
    od.record(c, bad, 200);
    await vi.advanceTimersByTimeAsync(2 * INTERVAL + 1); // two intervals: back to the first step
    eject();
    expect(await ejectionLasts()).toBe(BASE);
  });
});
