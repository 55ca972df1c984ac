import { describe, expect, it } from 'vitest';
import type { RouteModel } from '../model/index.js';
import { BASE, NOW, ok, route, vs } from './translate-fixture.test-support.js';
import { SAFE_DEFAULT_RETRIES } from './route-policies.js';

const R = 'reviews.default.svc.cluster.local';
const VH = 'default/reviews';

function one(http: string, annotations?: string): RouteModel {
  return route(ok(BASE, vs(http, annotations)), VH);
}

describe('translate: VirtualService → virtual host', () => {
  it('builds one virtual host per VS with normalised domains, names routes, keeps order', () => {
    const cfg = ok(BASE, vs(`
    - name: first
      match: [{ uri: { prefix: /a } }]
      route: [{ destination: { host: reviews, subset: v1 } }]
    - route: [{ destination: { host: reviews } }]`));
    const vh = cfg.virtualHosts.find((v) => v.name === VH);
    expect(vh?.domains).toEqual([R]);
    expect(vh?.source).toBe('VirtualService/default/reviews');
    expect(vh?.routes.map((r) => r.name)).toEqual(['first', 'reviews.1']);
    expect(cfg.virtualHosts).toHaveLength(1); // reviews is routed, so no default vhost
  });

  it('gives hosts no VS covers a default catch-all route', () => {
    const cfg = ok(BASE);
    expect(cfg.virtualHosts).toEqual([
      {
        name: R,
        domains: [R],
        source: 'ServiceEntry/default/reviews',
        routes: [{ name: 'default', match: [], action: { kind: 'forward', destinations: [{ host: R, port: 9080, weight: 100 }] }, retries: SAFE_DEFAULT_RETRIES }],
      },
    ]);
  });

  const matches: [string, string, unknown][] = [
    ['uri exact', '{ uri: { exact: /x } }', { uri: { kind: 'exact', value: '/x' } }],
    ['uri prefix + ignoreUriCase', '{ uri: { prefix: /X }, ignoreUriCase: true }', { uri: { kind: 'prefix', value: '/X' }, ignoreUriCase: true }],
    ['authority regex', '{ authority: { regex: "rev.*" } }', { authority: { kind: 'regex', value: 'rev.*' } }],
    ['method', '{ method: { exact: GET } }', { method: { kind: 'exact', value: 'GET' } }],
    ['headers lower-cased', '{ headers: { End-User: { exact: jason } } }', { headers: { 'end-user': { kind: 'exact', value: 'jason' } } }],
    ['header presence {}', '{ headers: { x-a: {} } }', { headers: { 'x-a': { kind: 'prefix', value: '' } } }],
    ['withoutHeaders', '{ withoutHeaders: { X-B: { prefix: t }, x-c: {} } }', { withoutHeaders: { 'x-b': { kind: 'prefix', value: 't' }, 'x-c': { kind: 'present' } } }],
    ['queryParams', '{ queryParams: { v: { exact: "1" } } }', { queryParams: { v: { kind: 'exact', value: '1' } } }],
    ['port', '{ port: 9080 }', { port: 9080 }],
  ];
  it.each(matches)('match %s', (_n, m, want) => {
    expect(one(`    - match: [${m}]\n      route: [{ destination: { host: reviews } }]`).match).toEqual([want]);
  });

  it('forward: host normalised, subset, port, weights (default 100 for one), per-destination headers', () => {
    const r = one(`
    - route:
        - destination: { host: reviews.default.svc.cluster.local, subset: v1, port: { number: 9080 } }
          weight: 75
          headers: { request: { set: { X-Canary: "no" } } }
        - destination: { host: reviews.default, subset: v2 }
          weight: 25`);
    expect(r.action).toEqual({
      kind: 'forward',
      destinations: [
        { host: R, subset: 'v1', port: 9080, weight: 75, headers: { request: { set: { 'x-canary': 'no' } } } },
        { host: R, subset: 'v2', port: 9080, weight: 25 },
      ],
    });
    expect(one('    - route: [{ destination: { host: reviews } }]').action).toEqual({ kind: 'forward', destinations: [{ host: R, port: 9080, weight: 100 }] });
  });

  it('redirect (default 301) and direct response', () => {
    expect(one('    - redirect: { uri: /new, authority: b.example.com }').action).toEqual({ kind: 'redirect', uri: '/new', authority: 'b.example.com', status: 301 });
    expect(one('    - redirect: { scheme: https, port: 8443, redirectCode: 308 }').action).toEqual({ kind: 'redirect', scheme: 'https', port: 8443, status: 308 });
    expect(one('    - directResponse: { status: 503, body: { string: down } }').action).toEqual({ kind: 'direct', status: 503, body: 'down' });
    expect(one('    - directResponse: { status: 200, body: { bytes: aGk= } }').action).toEqual({ kind: 'direct', status: 200, body: 'hi' });
    // no retries for routes that never forward
    expect(one('    - directResponse: { status: 204 }').retries).toBeUndefined();
  });

  it('headers, rewrite, timeout', () => {
    const r = one(`
    - headers: { request: { set: { X-A: "1" }, add: { X-B: "2" }, remove: [X-C] }, response: { remove: [server] } }
      rewrite: { uri: /v2, authority: other }
      timeout: 1.5s
      route: [{ destination: { host: reviews } }]`);
    expect(r.headers).toEqual({ request: { set: { 'x-a': '1' }, add: { 'x-b': '2' }, remove: ['x-c'] }, response: { remove: ['server'] } });
    expect(r.rewrite).toEqual({ uri: '/v2', authority: 'other' });
    expect(r.timeoutMs).toBe(1500);
  });

  const retries: [string, string, unknown][] = [
    ['absent → safe default', '', SAFE_DEFAULT_RETRIES],
    ['attempts 0 disables', 'retries: { attempts: 0 }', { attempts: 0, retryOn: [], retriableStatusCodes: [], idempotentOnly5xx: false, isDefault: false }],
    ['retryOn with bare codes', 'retries: { attempts: 3, perTryTimeout: 2s, retryOn: "5xx, 502,reset,503" }',
      { attempts: 3, perTryTimeoutMs: 2000, retryOn: ['5xx', 'reset', 'retriable-status-codes'], retriableStatusCodes: [502, 503], idempotentOnly5xx: false, isDefault: false }],
    ['no retryOn → Istio default conditions', 'retries: { attempts: 1 }',
      { attempts: 1, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [], idempotentOnly5xx: false, isDefault: false }],
  ];
  it.each(retries)('retries %s', (_n, r, want) => {
    expect(one(`    - ${r}\n      route: [{ destination: { host: reviews } }]`).retries).toEqual(want);
  });

  const faults: [string, string, unknown][] = [
    ['delay with percentage', 'fault: { delay: { fixedDelay: 5s, percentage: { value: 12.5 } } }', { delay: { fixedDelayMs: 5000, percent: 12.5 } }],
    ['delay with deprecated percent', 'fault: { delay: { fixedDelay: 100ms, percent: 30 } }', { delay: { fixedDelayMs: 100, percent: 30 } }],
    // Istio: "If not specified, no request will be aborted" (pilot: a missing percentage is 0%).
    ['abort, percentage absent = 0', 'fault: { abort: { httpStatus: 503 } }', { abort: { httpStatus: 503, percent: 0 } }],
    ['delay, percentage absent = 0', 'fault: { delay: { fixedDelay: 1s } }', { delay: { fixedDelayMs: 1000, percent: 0 } }],
  ];
  it.each(faults)('fault %s', (_n, f, want) => {
    expect(one(`    - ${f}\n      route: [{ destination: { host: reviews } }]`).fault).toEqual(want);
  });

  it('mirror + mirrorPercentage, deprecated mirrorPercent, and mirrors[]', () => {
    expect(one(`    - mirror: { host: reviews, subset: v2 }\n      mirrorPercentage: { value: 10 }\n      route: [{ destination: { host: reviews } }]`).mirrors)
      .toEqual([{ host: R, subset: 'v2', port: 9080, percent: 10, shadowSuffix: true }]);
    expect(one(`    - mirror: { host: reviews }\n      mirrorPercent: 40\n      route: [{ destination: { host: reviews } }]`).mirrors)
      .toEqual([{ host: R, port: 9080, percent: 40, shadowSuffix: true }]);
    expect(one(`    - mirrors: [{ destination: { host: reviews, subset: v1 } }, { destination: { host: reviews }, percentage: { value: 5 } }]\n      route: [{ destination: { host: reviews } }]`).mirrors)
      .toEqual([{ host: R, subset: 'v1', port: 9080, percent: 100, shadowSuffix: true }, { host: R, port: 9080, percent: 5, shadowSuffix: true }]);
  });

  it('leaves the port out for a multi-port service when the destination names none', () => {
    const multi = BASE.replace('ports: [{ number: 9080, name: http, targetPort: 9999 }]', 'ports: [{ number: 9080, name: http }, { number: 9443, name: http-alt }]');
    const cfg = ok(multi, vs('    - route: [{ destination: { host: reviews } }]'));
    expect(route(cfg, VH).action).toEqual({ kind: 'forward', destinations: [{ host: R, weight: 100 }] });
    expect(cfg.clusters.map((c) => c.name)).toContain(`outbound|9443|v2|${R}`);
  });
});

describe('translate: meshlet.io annotations', () => {
  const http = `
    - fault: { abort: { httpStatus: 500, percentage: { value: 50 } } }
      mirror: { host: reviews }
      route: [{ destination: { host: reviews } }]
    - route: [{ destination: { host: reviews } }]`;

  it('defaults: shadow suffix on, no header control, no expiry', () => {
    const cfg = ok(BASE, vs(http));
    expect(route(cfg, VH, 0).mirrors?.[0]?.shadowSuffix).toBe(true);
    expect(route(cfg, VH, 1).fault).toBeUndefined();
  });

  it('mirror-host-suffix, fault-header-control, max-active-faults, experiment-ttl', () => {
    const ann = '{ meshlet.io/mirror-host-suffix: "false", meshlet.io/fault-header-control: "true", meshlet.io/max-active-faults: "7", meshlet.io/experiment-ttl: 10m }';
    const cfg = ok(BASE, vs(http, ann));
    const expiresAt = NOW + 600_000;
    expect(route(cfg, VH, 0).fault).toEqual({ abort: { httpStatus: 500, percent: 50 }, headerControlled: true, maxActiveFaults: 7, expiresAt });
    expect(route(cfg, VH, 0).mirrors).toEqual([{ host: R, port: 9080, percent: 100, shadowSuffix: false, expiresAt }]);
    // header control creates an (otherwise empty) fault policy on every route of the VS
    expect(route(cfg, VH, 1).fault).toEqual({ headerControlled: true, maxActiveFaults: 7, expiresAt });
  });
});

describe('translate: version', () => {
  it('is stable across runs and changes with content', () => {
    const a = ok(BASE, vs('    - route: [{ destination: { host: reviews } }]'));
    const b = ok(BASE, vs('    - route: [{ destination: { host: reviews } }]'));
    const c = ok(BASE, vs('    - route: [{ destination: { host: reviews, subset: v1 } }]'));
    expect(a.version).toMatch(/^[0-9a-f]{12}$/);
    expect(b.version).toBe(a.version);
    expect(c.version).not.toBe(a.version);
  });
});
