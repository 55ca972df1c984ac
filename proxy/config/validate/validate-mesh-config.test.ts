import { describe, expect, it } from 'vitest';
import type { MeshConfig } from '../model/index.js';
import { ok, BASE, vs } from '../translate/translate-fixture.test-support.js';
import { validateMeshConfig as zodValidate } from './validate-mesh-config.js';
import { validateSnapshot } from './validate-snapshot.js';

const R = 'reviews.default.svc.cluster.local';

function sample(): MeshConfig {
  const ann = '{ meshlet.io/fault-header-control: "true", meshlet.io/experiment-ttl: 1m }';
  const dr = BASE.replace('host: reviews\n', 'host: reviews\n  trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: s, ttl: 1s } } }, outlierDetection: {}, connectionPool: { tcp: { maxConnections: 1 } } }\n');
  return ok(dr, vs(`
    - match: [{ headers: { a: { regex: "^x" } }, withoutHeaders: { b: {} } }]
      fault: { delay: { fixedDelay: 1s } }
      mirror: { host: reviews, subset: v2 }
      retries: { attempts: 1, retryOn: "5xx,503" }
      route: [{ destination: { host: reviews, subset: v1 }, weight: 90 }, { destination: { host: reviews }, weight: 10 }]
    - redirect: { uri: /x }
    - directResponse: { status: 404 }`, ann));
}

/** JSON round trip, as the wire does, returning a mutable copy to break. */
function wire(c: unknown): Record<string, any> {
  return JSON.parse(JSON.stringify(c)) as Record<string, any>;
}

// The same cases for zod (control plane, --config) and the sidecar's generated validator.
describe.each([
  ['validateMeshConfig', zodValidate],
  ['validateSnapshot', validateSnapshot],
])('%s', (_name, validateMeshConfig) => {
  it('accepts what translate produces, after a JSON round trip, unchanged', () => {
    const cfg = sample();
    const r = validateMeshConfig(wire(cfg));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config).toEqual(cfg);
  });

  const broken: [string, (c: Record<string, any>) => void, { resource: string; path: string }][] = [
    ['missing version', (c) => { delete c['version']; }, { resource: 'MeshConfig', path: 'version' }],
    ['endpoint weight 0', (c) => { c['clusters'][0].endpoints[0].weight = 0; }, { resource: `Cluster/outbound|9080||${R}`, path: 'clusters[0].endpoints[0].weight' }],
    ['unknown lb kind', (c) => { c['clusters'][1].policy.lb = { kind: 'fastest' }; }, { resource: `Cluster/outbound|9080|v1|${R}`, path: 'clusters[1].policy.lb.kind' }],
    ['bad regex', (c) => { c['virtualHosts'][0].routes[0].match[0].headers.a.value = '('; }, { resource: 'VirtualHost/default/reviews', path: 'virtualHosts[0].routes[0].match[0].headers.a.value' }],
    ['percent over 100', (c) => { c['virtualHosts'][0].routes[0].mirrors[0].percent = 101; }, { resource: 'VirtualHost/default/reviews', path: 'virtualHosts[0].routes[0].mirrors[0].percent' }],
    ['bad retryOn', (c) => { c['virtualHosts'][0].routes[0].retries.retryOn = ['sometimes']; }, { resource: 'VirtualHost/default/reviews', path: 'virtualHosts[0].routes[0].retries.retryOn[0]' }],
    ['redirect code', (c) => { c['virtualHosts'][0].routes[1].action.status = 200; }, { resource: 'VirtualHost/default/reviews', path: 'virtualHosts[0].routes[1].action.status' }],
    ['cluster name mismatch', (c) => { c['clusters'][0].name = 'x'; }, { resource: 'Cluster/x', path: 'clusters[0].name' }],
    ['destination without cluster', (c) => { c['virtualHosts'][0].routes[0].action.destinations[0].subset = 'v9'; }, { resource: 'VirtualHost/default/reviews', path: 'virtualHosts[0].routes[0].action.destinations[0]' }],
    ['mirror without cluster', (c) => { c['virtualHosts'][0].routes[0].mirrors[0].host = 'nowhere'; }, { resource: 'VirtualHost/default/reviews', path: 'virtualHosts[0].routes[0].mirrors[0]' }],
  ];
  it.each(broken)('rejects %s with resource and path', (_n, breakIt, where) => {
    const c = wire(sample());
    breakIt(c);
    const r = validateMeshConfig(c);
    expect(r.ok).toBe(false);
    // the first issue is the one caused; later ones may be consequences (a renamed cluster orphans its routes)
    if (!r.ok) expect(r.issues[0]).toEqual({ ...where, reason: expect.any(String) });
  });

  it('reports several problems at once', () => {
    const c = wire(sample());
    c['clusters'][0].port = 0;
    c['virtualHosts'][0].domains = [];
    const r = validateMeshConfig(c);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path).sort()).toEqual(['clusters[0].port', 'virtualHosts[0].domains']);
  });

  it('rejects non-objects', () => {
    expect(validateMeshConfig(null).ok).toBe(false);
    expect(validateMeshConfig('{}').ok).toBe(false);
  });
});
