// Traffic mirroring through a real meshlet process: the shadow gets a copy
// (headers, body, `-shadow` Host unless annotated off), the primary never waits
// for a hanging or dead mirror, mirrorPercentage is exact, mirrors[] fans out,
// and a hanging mirror cannot use up the mirror slots for good.
import { describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, until, type MeshletProc, svcRoute } from '../support/meshlet-process.js';
import { closedPort, testScope } from '../support/scope.js';
import type { Behaviour } from '../support/upstream.js';

const scope = testScope();
const upstream = scope.upstream;

const hang: Behaviour = () => undefined;

/** Services `svc` (primary) and `shadow`, `shadow2`; VS on svc with `route` lines and annotations. */
async function mesh(ports: { svc: number; shadow: number; shadow2?: number }, route: string, annotations = '', args: string[] = []): Promise<MeshletProc> {
  const yaml =
    serviceEntry('svc', [ports.svc]) +
    serviceEntry('shadow', [ports.shadow]) +
    (ports.shadow2 !== undefined ? serviceEntry('shadow2', [ports.shadow2]) : '') +
    svcRoute(route, annotations);
  return scope.meshlet(yaml, args);
}

async function timed(m: MeshletProc): Promise<{ status: number; took: number }> {
  const t0 = Date.now();
  const r = await send(m.outbound, { host: 'svc' });
  return { status: r.status, took: Date.now() - t0 };
}

describe('mirroring', () => {
  it('the shadow receives a copy (method, path, headers, body) with a -shadow Host', async () => {
    const primary = await upstream('primary');
    const shadow = await upstream('shadow');
    const m = await mesh({ svc: primary.port, shadow: shadow.port }, '      mirror: { host: shadow }\n');
    const body = Buffer.from(JSON.stringify({ order: 42, items: ['a', 'b'] }));
    const r = await send(m.outbound, { host: 'svc', method: 'POST', path: '/orders?x=1', headers: { 'x-test': 'copy-me', 'content-type': 'application/json' }, body });
    expect(r.status).toBe(200);
    await until(() => shadow.received.length === 1 || undefined);
    const copy = shadow.received[0]!;
    expect(copy.method).toBe('POST');
    expect(copy.url).toBe('/orders?x=1');
    expect(copy.headers['host']).toBe('svc-shadow');
    expect(copy.headers['x-test']).toBe('copy-me');
    expect(copy.headers['x-request-id']).toBe(primary.received[0]!.headers['x-request-id']);
    expect(copy.body.equals(body)).toBe(true);
    expect(primary.received[0]!.headers['host']).toBe('svc');
  });

  it('keeps the Host when the VirtualService says meshlet.io/mirror-host-suffix: "false"', async () => {
    const primary = await upstream('primary');
    const shadow = await upstream('shadow');
    const m = await mesh({ svc: primary.port, shadow: shadow.port }, '      mirror: { host: shadow }\n', '"meshlet.io/mirror-host-suffix": "false"');
    expect((await send(m.outbound, { host: 'svc:9080' })).status).toBe(200);
    await until(() => shadow.received.length === 1 || undefined);
    expect(shadow.received[0]!.headers['host']).toBe('svc:9080');
  });

  it('the primary answers at its own speed when the mirror hangs or is down', async () => {
    const primary = await upstream('primary');
    const stuck = await upstream('stuck', hang);
    const m1 = await mesh({ svc: primary.port, shadow: stuck.port }, '      mirror: { host: shadow }\n');
    for (let i = 0; i < 10; i++) {
      const r = await timed(m1);
      expect(r.status).toBe(200);
      expect(r.took).toBeLessThan(500);
    }
    await until(() => stuck.received.length === 10 || undefined);

    const m2 = await mesh({ svc: primary.port, shadow: await closedPort() }, '      mirror: { host: shadow }\n');
    for (let i = 0; i < 10; i++) {
      const r = await timed(m2);
      expect(r.status).toBe(200);
      expect(r.took).toBeLessThan(500);
    }
  });

  it('a hanging mirror gives its slot back after the route timeout', async () => {
    const primary = await upstream('primary');
    const stuck = await upstream('stuck', hang);
    const m = await mesh({ svc: primary.port, shadow: stuck.port }, '      timeout: 400ms\n      mirror: { host: shadow }\n', '', ['--mirror-concurrency', '2']);
    for (let i = 0; i < 3; i++) expect((await send(m.outbound, { host: 'svc' })).status).toBe(200);
    // Two mirrors hang in their slots; the third was dropped.
    await until(() => stuck.received.length === 2 || undefined);
    expect(stuck.received.length).toBe(2);
    // After the timeout the slots are free again and mirroring resumes.
    await until(async () => {
      await send(m.outbound, { host: 'svc' });
      return stuck.received.length > 2 || undefined;
    }, 5000, 100);
  });

  it('mirrorPercentage is exact over 100 requests, and mirrors[] fans out to each target at its own rate', async () => {
    const primary = await upstream('primary');
    const s1 = await upstream('s1');
    const s2 = await upstream('s2');
    const m = await mesh(
      { svc: primary.port, shadow: s1.port, shadow2: s2.port },
      '      mirrors:\n        - { destination: { host: shadow }, percentage: { value: 50 } }\n        - { destination: { host: shadow2 }, percentage: { value: 20 } }\n',
    );
    for (let i = 0; i < 100; i += 10) await Promise.all(Array.from({ length: 10 }, () => send(m.outbound, { host: 'svc' })));
    await until(() => (s1.received.length >= 50 && s2.received.length >= 20) || undefined);
    // Every mirror was dispatched before its primary answered; count the outcomes in the metrics to be sure none is still on its way.
    await until(async () => {
      const text = (await send(m.metrics, { path: '/stats/prometheus' })).body;
      const sent = [...text.matchAll(/^meshlet_mirror_requests_total\{[^}]*outcome="sent"[^}]*\} (\d+)$/gm)].reduce((n, x) => n + Number(x[1]), 0);
      return sent === 70 || undefined;
    });
    expect(s1.received.length).toBe(50);
    expect(s2.received.length).toBe(20);
    expect(primary.received.length).toBe(100);
  });

  it('mirror (single) with mirrorPercentage', async () => {
    const primary = await upstream('primary');
    const shadow = await upstream('shadow');
    const m = await mesh({ svc: primary.port, shadow: shadow.port }, '      mirror: { host: shadow }\n      mirrorPercentage: { value: 25 }\n');
    for (let i = 0; i < 40; i++) await send(m.outbound, { host: 'svc' });
    await until(() => shadow.received.length >= 10 || undefined);
    expect(shadow.received.length).toBe(10);
  });

  it('a body over the buffer limit goes to the primary intact and the mirror is dropped (counted), never truncated', async () => {
    const primary = await upstream('primary');
    const shadow = await upstream('shadow');
    const m = await mesh({ svc: primary.port, shadow: shadow.port }, '      mirror: { host: shadow }\n', '', ['--buffer-limit', '1024']);
    const big = Buffer.alloc(64 * 1024, 7);
    const r = await send(m.outbound, { host: 'svc', method: 'POST', body: big });
    expect(r.status).toBe(200);
    expect(primary.received[0]!.body.equals(big)).toBe(true);
    const dropped = await until(async () => {
      const text = (await send(m.metrics, { path: '/stats/prometheus' })).body;
      const n = [...text.matchAll(/^meshlet_mirror_requests_total\{[^}]*outcome="dropped"[^}]*\} (\d+)$/gm)].reduce((a, x) => a + Number(x[1]), 0);
      return n > 0 ? n : undefined;
    });
    expect(dropped).toBe(1);
    // A small body on the same route is still mirrored.
    expect((await send(m.outbound, { host: 'svc', method: 'POST', body: 'small' })).status).toBe(200);
    await until(() => shadow.received.length === 1 || undefined);
    expect(shadow.received[0]!.body.toString()).toBe('small');
  });
});
