// Istio semantics the translation decides: per-proxy match conditions,
// gateway binding, scheme, weight normalisation, uriRegexRewrite, and the
// warnings for faults without a percentage.
import { describe, expect, it } from 'vitest';
import { BASE, NOW, ok, resources, route, vs } from './translate-fixture.test-support.js';
import { translate } from './translate.js';

const R = 'reviews.default.svc.cluster.local';
const VH = 'default/reviews';

describe('translate: Istio semantics', () => {
  it('keeps sourceLabels and sourceNamespace for the sidecar to evaluate; a clause with only them is not {}', () => {
    const cfg = ok(BASE, vs('    - match: [{ sourceLabels: { app: productpage } }, { sourceNamespace: shop, uri: { prefix: /x } }]\n      route: [{ destination: { host: reviews, subset: v2 } }]\n    - route: [{ destination: { host: reviews, subset: v1 } }]'));
    expect(route(cfg, VH).match).toEqual([{ sourceLabels: { app: 'productpage' } }, { sourceNamespace: 'shop', uri: { kind: 'prefix', value: '/x' } }]);
  });

  it('a clause bound to gateways without mesh never applies to sidecars; with mesh it ignores sourceLabels, as Istio does', () => {
    const cfg = ok(BASE, vs('    - match: [{ gateways: [ingress], uri: { prefix: /a } }, { gateways: [mesh], sourceLabels: { app: x }, uri: { prefix: /b } }]\n      route: [{ destination: { host: reviews } }]'));
    expect(route(cfg, VH).match).toEqual([{ uri: { kind: 'prefix', value: '/b' } }]);
  });

  it('a route whose clauses are all for gateways is left out, with a note', () => {
    const r = translate(resources(BASE, vs('    - match: [{ gateways: [ingress] }]\n      directResponse: { status: 403 }\n    - route: [{ destination: { host: reviews } }]')), NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const vh = r.config.virtualHosts.find((v) => v.name === VH)!;
    expect(vh.routes.map((x) => x.name)).toEqual(['reviews.1']);
    expect(r.warnings).toEqual([expect.objectContaining({ path: 'spec.http[0].match', severity: 'info' })]);
  });

  it('a VirtualService bound only to gateways is not applied to sidecars (the host keeps its default route)', () => {
    const gw = vs('    - directResponse: { status: 403 }').replace('hosts: [reviews]', 'hosts: [reviews]\n  gateways: [istio-system/ingress]');
    const r = translate(resources(BASE, gw), NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.virtualHosts.map((v) => v.name)).toEqual([R]);
    expect(r.warnings).toEqual([expect.objectContaining({ path: 'spec.gateways', severity: 'info' })]);
    const mesh = ok(BASE, gw.replace('[istio-system/ingress]', '[istio-system/ingress, mesh]'));
    expect(mesh.virtualHosts.map((v) => v.name)).toEqual([VH]);
  });

  it('scheme: http always matches on a sidecar, anything else drops the clause', () => {
    const cfg = ok(BASE, vs('    - match: [{ scheme: { exact: https }, uri: { prefix: /a } }, { scheme: { regex: "http|ws" }, uri: { prefix: /b } }]\n      route: [{ destination: { host: reviews } }]'));
    expect(route(cfg, VH).match).toEqual([{ uri: { kind: 'prefix', value: '/b' } }]);
  });

  it('weights need not sum to 100 (each gets weight/sum); zero-weight destinations are kept but never chosen', () => {
    const cfg = ok(BASE, vs('    - route: [{ destination: { host: reviews, subset: v1 }, weight: 1 }, { destination: { host: reviews, subset: v2 }, weight: 3 }, { destination: { host: reviews }, weight: 0 }]'));
    const a = route(cfg, VH).action;
    expect(a.kind === 'forward' && a.destinations.map((d) => d.weight)).toEqual([1, 3, 0]);
  });

  it('uriRegexRewrite becomes the model rewrite; uri and uriRegexRewrite together are refused', () => {
    const cfg = ok(BASE, vs('    - rewrite: { uriRegexRewrite: { match: "^/v1/(.*)$", rewrite: "/v2/\\\\1" } }\n      route: [{ destination: { host: reviews } }]'));
    expect(route(cfg, VH).rewrite).toEqual({ uriRegex: { match: '^/v1/(.*)$', substitution: '/v2/\\1' } });
    expect(() => resources(vs('    - rewrite: { uri: /x, uriRegexRewrite: { match: a, rewrite: b } }\n      route: [{ destination: { host: reviews } }]'))).toThrow(/exclusive/);
  });

  it('a fault without percentage faults no request and says so', () => {
    const r = translate(resources(BASE, vs('    - fault: { abort: { httpStatus: 503 }, delay: { fixedDelay: 1s } }\n      route: [{ destination: { host: reviews } }]')), NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(route(r.config, VH).fault).toEqual({ delay: { fixedDelayMs: 1000, percent: 0 }, abort: { httpStatus: 503, percent: 0 } });
    expect(r.warnings?.map((w) => [w.path, w.severity])).toEqual([['spec.http[0].fault.delay', 'warning'], ['spec.http[0].fault.abort', 'warning']]);
  });
});
