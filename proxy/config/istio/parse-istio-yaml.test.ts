import { describe, expect, it } from 'vitest';
import { parseIstioYaml } from './parse-istio-yaml.js';

const MIXED = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  ports: [{ number: 9080, name: http }]
---
# empty document next
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: { name: reviews }
spec: { host: reviews, subsets: [{ name: v1, labels: { version: v1 } }] }
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: { name: reviews, annotations: { meshlet.io/max-active-faults: "3" } }
spec:
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews } }] }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: ignored }
spec: { selector: { istio: ingressgateway } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: ignored-too }
data: { a: b }
`;

describe('parseIstioYaml', () => {
  it('parses multi-document YAML with several kinds; notes what it skips, warns about what it does not apply', () => {
    const r = parseIstioYaml(MIXED, 'mixed.yaml');
    expect(r.issues).toEqual([]);
    expect(r.warnings.map((w) => [w.resource, w.severity, w.reason])).toEqual([
      ['Gateway/default/ignored', 'warning', expect.stringMatching(/Meshlet has no gateways/)],
      ['ConfigMap/default/ignored-too', 'info', 'skipped: v1 is not an Istio networking or security API'],
    ]);
    expect(r.resources.map((x) => `${x.kind}/${x.metadata.namespace}/${x.metadata.name}@${x.apiVersion}`)).toEqual([
      'ServiceEntry/shop/reviews@networking.istio.io/v1',
      'DestinationRule/default/reviews@networking.istio.io/v1beta1',
      'VirtualService/default/reviews@networking.istio.io/v1alpha3',
    ]);
    expect(r.resources.every((x) => x.file === 'mixed.yaml')).toBe(true);
    const vs = r.resources[2];
    expect(vs?.metadata.annotations).toEqual({ 'meshlet.io/max-active-faults': '3' });
  });

  const trivial: [string, string, number][] = [
    ['empty text', '', 0],
    ['only a comment', '# nothing\n', 0],
    ['a mapping without apiVersion', 'foo: bar\n', 0],
    ['a sequence document', '- a\n- b\n', 1],
  ];
  it.each(trivial)('%s gives no resources and %i issue(s)', (_n, text, nIssues) => {
    const r = parseIstioYaml(text);
    expect(r.resources).toEqual([]);
    expect(r.issues).toHaveLength(nIssues);
  });

  it('unwraps kind: List', () => {
    const text = `
apiVersion: v1
kind: List
items:
  - apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: { name: a }
    spec: { hosts: [a], ports: [{ number: 80, name: http }] }
`;
    const r = parseIstioYaml(text);
    expect(r.issues).toEqual([]);
    expect(r.resources).toHaveLength(1);
    expect(r.resources[0]?.file).toBeUndefined();
  });

  it('reports YAML syntax errors with file and document number, and keeps the other documents', () => {
    const text = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ok }
spec: { hosts: [ok], ports: [{ number: 80, name: http }] }
---
kind: [unclosed
`;
    const r = parseIstioYaml(text, 'bad.yaml');
    expect(r.resources).toHaveLength(1);
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ file: 'bad.yaml', resource: '(document 2)', path: '' });
    expect(r.issues[0]?.reason).toMatch(/^YAML: /);
  });

  it('reports every schema error of every document at once, each with resource and path', () => {
    const text = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r, namespace: ns1 }
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews, subset: v1 }
          weight: 0
        - destination: { host: reviews, subset: v2 }
    - match: [{ uri: { regex: "([a-z" } }]
      timeout: 10 seconds
      fault:
        abort: { httpStatus: 700, percentage: { value: 150 } }
      route: [{ destination: { host: reviews } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: d }
spec:
  host: reviews
  trafficPolicy: { loadBalancer: { simple: PASSTHROUGH } }
---
apiVersion: networking.istio.io/v2
kind: ServiceEntry
metadata: { name: s }
spec: { hosts: [x], ports: [{ number: 80, name: http }] }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { namespace: ns2 }
spec: { hosts: [], ports: [{ number: 0, name: http }] }
`;
    const r = parseIstioYaml(text, 'f.yaml');
    expect(r.resources).toEqual([]);
    const got = r.issues.map((i) => [i.resource, i.path]);
    expect(got).toEqual(
      expect.arrayContaining([
        ['VirtualService/ns1/r', 'spec.http[0].route'],
        ['VirtualService/ns1/r', 'spec.http[1].match[0].uri.regex'],
        ['VirtualService/ns1/r', 'spec.http[1].timeout'],
        ['VirtualService/ns1/r', 'spec.http[1].fault.abort.httpStatus'],
        ['VirtualService/ns1/r', 'spec.http[1].fault.abort.percentage.value'],
        ['DestinationRule/default/d', 'spec.trafficPolicy.loadBalancer.simple'],
        ['ServiceEntry/default/s', 'apiVersion'],
        ['ServiceEntry/ns2/<unnamed (document 4)>', 'metadata.name'],
        ['ServiceEntry/ns2/<unnamed (document 4)>', 'spec.hosts'],
        ['ServiceEntry/ns2/<unnamed (document 4)>', 'spec.ports[0].number'],
      ]),
    );
    expect(r.issues.every((i) => i.file === 'f.yaml')).toBe(true);
    const byPath = new Map(r.issues.map((i) => [i.path, i.reason]));
    expect(byPath.get('spec.http[0].route')).toMatch(/sum to 0/);
    expect(byPath.get('spec.http[1].match[0].uri.regex')).toMatch(/not a valid RE2 regex/);
    expect(byPath.get('spec.trafficPolicy.loadBalancer.simple')).toMatch(/PASSTHROUGH is not supported/);
    expect(byPath.get('spec.http[1].fault.abort.httpStatus')).toMatch(/200\.\.599/);
  });

  it('accepts a single destination without weight and rejects a route with no action', () => {
    const text = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r }
spec:
  hosts: [reviews]
  http:
    - route: [{ destination: { host: reviews } }]
    - match: [{ uri: { prefix: /x } }]
`;
    const r = parseIstioYaml(text);
    expect(r.issues).toEqual([{ resource: 'VirtualService/default/r', path: 'spec.http[1]', reason: 'route needs one of route, redirect, directResponse' }]);
  });

  it('quotes map keys that are not identifiers in issue paths', () => {
    const text = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r }
spec:
  hosts: [reviews]
  http:
    - match: [{ headers: { x-user.id: { regex: "(" } } }]
      route: [{ destination: { host: reviews } }]
`;
    const r = parseIstioYaml(text);
    expect(r.issues.map((i) => i.path)).toEqual(['spec.http[0].match[0].headers["x-user.id"].regex']);
  });
});
