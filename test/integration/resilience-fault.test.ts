// Fault injection through a real meshlet process: exact percentages (the fault
// layer's deterministic accumulator), DI/FI flags, aborts never retried,
// delays counting against the route timeout, header-controlled faults only
// where the VirtualService allows them, and max-active-faults.
import { describe, expect, it } from 'vitest';
import { send, type Reply } from '../support/http-client.js';
import { serviceEntry, until, type MeshletProc, svcRoute } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';
import type { Upstream } from '../support/upstream.js';

const scope = testScope();

async function setup(vsYaml: string): Promise<{ m: MeshletProc; up: Upstream }> {
  const up = await scope.upstream('app');
  const m = await scope.meshlet(serviceEntry('svc', [up.port]) + vsYaml);
  return { m, up };
}


/** `n` requests, 10 at a time. */
async function many(m: MeshletProc, n: number, headers: Record<string, string> = {}): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < n; i += 10) out.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => send(m.outbound, { host: 'svc', headers })))));
  return out;
}

const flags = (r: Reply): string => String(r.headers['x-meshlet-flags'] ?? '');

describe('fault injection', () => {
  it('aborts exactly 50 of 100 with FI and never retries an injected 503', async () => {
    // GET + 503 is retried by the safe default policy: an injected abort must not be.
    const { m, up } = await setup(svcRoute('      fault: { abort: { httpStatus: 503, percentage: { value: 50 } } }\n'));
    const replies = await many(m, 100);
    const aborted = replies.filter((r) => r.status === 503);
    expect(aborted.length).toBe(50);
    for (const r of aborted) expect(flags(r)).toBe('FI');
    expect(replies.filter((r) => r.status === 200).length).toBe(50);
    expect(up.received.length).toBe(50);
  });

  it('delays exactly 30 of 100 with DI', async () => {
    const { m, up } = await setup(svcRoute('      fault: { delay: { fixedDelay: 50ms, percentage: { value: 30 } } }\n'));
    const timed: { took: number; r: Reply }[] = [];
    for (let i = 0; i < 100; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const t0 = Date.now();
          const r = await send(m.outbound, { host: 'svc' });
          return { took: Date.now() - t0, r };
        }),
      );
      timed.push(...batch);
    }
    const delayed = timed.filter((t) => flags(t.r) === 'DI');
    expect(delayed.length).toBe(30);
    for (const t of delayed) expect(t.took).toBeGreaterThanOrEqual(48);
    expect(timed.every((t) => t.r.status === 200)).toBe(true);
    expect(up.received.length).toBe(100);
  });

  it('an injected delay counts against the route timeout: delay 300 ms + timeout 200 ms → 504 UT', async () => {
    const { m, up } = await setup(svcRoute('      timeout: 200ms\n      fault: { delay: { fixedDelay: 300ms, percentage: { value: 100 } } }\n'));
    const t0 = Date.now();
    const r = await send(m.outbound, { host: 'svc' });
    const took = Date.now() - t0;
    expect(r.status).toBe(504);
    expect(flags(r).split(',').sort()).toEqual(['DI', 'UT']);
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1000);
    // The request never reached the app (had the delay not counted, the app would have answered 200 at 300 ms).
    expect(up.received.length).toBe(0);
  });

  it('honours x-envoy-fault-* headers only on a VirtualService annotated fault-header-control', async () => {
    const on = await setup(svcRoute('', '"meshlet.io/fault-header-control": "true"'));
    const abort = await send(on.m.outbound, { host: 'svc', headers: { 'x-envoy-fault-abort-request': '418' } });
    expect(abort.status).toBe(418);
    expect(flags(abort)).toBe('FI');
    const t0 = Date.now();
    const delay = await send(on.m.outbound, { host: 'svc', headers: { 'x-envoy-fault-delay-request': '150' } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(148);
    expect(delay.status).toBe(200);
    expect(flags(delay)).toBe('DI');
    const none = await send(on.m.outbound, { host: 'svc', headers: { 'x-envoy-fault-abort-request': '503', 'x-envoy-fault-abort-request-percentage': '0' } });
    expect(none.status).toBe(200);
    const all = await send(on.m.outbound, { host: 'svc', headers: { 'x-envoy-fault-abort-request': '503', 'x-envoy-fault-abort-request-percentage': '100' } });
    expect(all.status).toBe(503);
    expect(flags(all)).toBe('FI');
    // About half with a 50% header (random per request: wide bounds).
    const half = await many(on.m, 100, { 'x-envoy-fault-abort-request': '503', 'x-envoy-fault-abort-request-percentage': '50' });
    const n = half.filter((r) => r.status === 503).length;
    expect(n).toBeGreaterThan(25);
    expect(n).toBeLessThan(75);

    const off = await setup(svcRoute('      fault: { delay: { fixedDelay: 1ms, percentage: { value: 0 } } }\n'));
    const ignored = await send(off.m.outbound, { host: 'svc', headers: { 'x-envoy-fault-abort-request': '418', 'x-envoy-fault-delay-request': '2000' } });
    expect(ignored.status).toBe(200);
    expect(ignored.headers['x-meshlet-flags']).toBeUndefined();
    expect(off.up.received.length).toBe(1);
  });

  it('meshlet.io/max-active-faults caps concurrent faults', async () => {
    const { m } = await setup(svcRoute('      fault: { delay: { fixedDelay: 500ms, percentage: { value: 100 } } }\n', '"meshlet.io/max-active-faults": "2"'));
    const first = [send(m.outbound, { host: 'svc' }), send(m.outbound, { host: 'svc' })];
    // The first two are in their delay (counted as injected) before the rest arrive.
    await until(async () => {
      const text = (await send(m.metrics, { path: '/stats/prometheus' })).body;
      return /^meshlet_faults_injected_total\{[^}]*kind="delay"[^}]*\} 2$/m.test(text) || undefined;
    });
    const rest = await Promise.all(Array.from({ length: 5 }, () => send(m.outbound, { host: 'svc' })));
    for (const r of rest) expect(flags(r)).toBe('');
    for (const r of await Promise.all(first)) expect(flags(r)).toBe('DI');
    // Slots are free again afterwards.
    expect(flags(await send(m.outbound, { host: 'svc' }))).toBe('DI');
  });
});
