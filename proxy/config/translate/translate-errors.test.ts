import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../model/index.js';
import { BASE, NOW, resources, vs } from './translate-fixture.test-support.js';
import { translate } from './translate.js';

function issuesOf(...yaml: string[]): ConfigIssue[] {
  const r = translate(resources(...yaml), NOW);
  if (r.ok) throw new Error('expected translate to fail');
  return r.issues;
}

// [case, extra yaml (file f1.yaml), expected issue (file, resource, path), reason pattern]
const cases: [string, string, Omit<ConfigIssue, 'reason'>, RegExp][] = [
  ['undeclared destination host', vs('    - route: [{ destination: { host: ratings } }]'),
    { file: 'f1.yaml', resource: 'VirtualService/default/reviews', path: 'spec.http[0].route[0].destination.host' }, /host "ratings" \(ratings\.default\.svc\.cluster\.local\) is not declared by any ServiceEntry/],
  ['unknown subset', vs('    - route: [{ destination: { host: reviews, subset: v9 } }]'),
    { file: 'f1.yaml', resource: 'VirtualService/default/reviews', path: 'spec.http[0].route[0].destination.subset' }, /subset "v9" is not defined/],
  ['port not on the service', vs('    - route: [{ destination: { host: reviews, port: { number: 80 } } }]'),
    { file: 'f1.yaml', resource: 'VirtualService/default/reviews', path: 'spec.http[0].route[0].destination.port.number' }, /port 80 is not a port of/],
  ['undeclared mirror host', vs('    - mirror: { host: shadow }\n      route: [{ destination: { host: reviews } }]'),
    { file: 'f1.yaml', resource: 'VirtualService/default/reviews', path: 'spec.http[0].mirror.host' }, /not declared/],
  ['unknown retryOn condition', vs('    - retries: { attempts: 2, retryOn: "5xx,retriable-headers" }\n      route: [{ destination: { host: reviews } }]'),
    { file: 'f1.yaml', resource: 'VirtualService/default/reviews', path: 'spec.http[0].retries.retryOn' }, /unsupported retry condition "retriable-headers"/],
  ['bad annotation', vs('    - route: [{ destination: { host: reviews } }]', '{ meshlet.io/experiment-ttl: soon }'),
    { file: 'f1.yaml', resource: 'VirtualService/default/reviews', path: 'metadata.annotations["meshlet.io/experiment-ttl"]' }, /positive duration/],
  ['DestinationRule for an undeclared host', 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: x, namespace: ns }\nspec: { host: nope }\n',
    { file: 'f1.yaml', resource: 'DestinationRule/ns/x', path: 'spec.host' }, /nope\.ns\.svc\.cluster\.local\) is not declared/],
  ['second DestinationRule for a host', 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: other }\nspec: { host: reviews.default.svc.cluster.local }\n',
    { file: 'f1.yaml', resource: 'DestinationRule/default/other', path: 'spec.host' }, /already has DestinationRule\/default\/reviews/],
  ['duplicate resource name', 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: reviews }\nspec: { hosts: [other], ports: [{ number: 1, name: http }] }\n',
    { file: 'f1.yaml', resource: 'ServiceEntry/default/reviews', path: 'metadata.name' }, /duplicate ServiceEntry\/default\/reviews \(first defined in f0\.yaml\)/],
  ['host declared twice', 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: again }\nspec: { hosts: [x, reviews.default], ports: [{ number: 1, name: http }] }\n',
    { file: 'f1.yaml', resource: 'ServiceEntry/default/again', path: 'spec.hosts[1]' }, /already declared by ServiceEntry\/default\/reviews/],
  ['STATIC with a host name', 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: s }\nspec: { hosts: [s], resolution: STATIC, ports: [{ number: 1, name: http }], endpoints: [{ address: db.local }] }\n',
    { file: 'f1.yaml', resource: 'ServiceEntry/default/s', path: 'spec.endpoints[0].address' }, /STATIC resolution needs an IP address/],
  ['endpoint port name not declared', 'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: s }\nspec: { hosts: [s], ports: [{ number: 1, name: http }], endpoints: [{ address: 10.0.0.9, ports: { grpc: 2 } }] }\n',
    { file: 'f1.yaml', resource: 'ServiceEntry/default/s', path: 'spec.endpoints[0].ports.grpc' }, /no port named "grpc"/],
];

describe('translate: every error class yields an issue with file, resource and path', () => {
  it.each(cases)('%s', (_n, extra, where, reason) => {
    const issues = issuesOf(BASE, extra);
    expect(issues).toEqual([{ ...where, reason: expect.stringMatching(reason) }]);
  });

  it('reports two VirtualServices routing the same host on the second one', () => {
    const issues = issuesOf(BASE, vs('    - route: [{ destination: { host: reviews } }]'), vs('    - route: [{ destination: { host: reviews } }]', '{}', 'reviews-b'));
    expect(issues).toEqual([
      { file: 'f2.yaml', resource: 'VirtualService/default/reviews-b', path: 'spec.hosts[0]', reason: `host reviews.default.svc.cluster.local is already routed by VirtualService/default/reviews` },
    ]);
  });

  it('collects all issues of all resources in one result', () => {
    const bad = vs(`
    - route:
        - destination: { host: ratings }
          weight: 50
        - destination: { host: reviews, subset: v7 }
          weight: 50
    - mirror: { host: shadow }
      route: [{ destination: { host: reviews, port: { number: 1 } } }]`, '{ meshlet.io/max-active-faults: many }');
    const dr = 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: x }\nspec: { host: nope }\n';
    const paths = issuesOf(BASE, bad, dr).map((i) => `${i.file} ${i.resource} ${i.path}`);
    expect(paths.sort()).toEqual([
      'f1.yaml VirtualService/default/reviews metadata.annotations["meshlet.io/max-active-faults"]',
      'f1.yaml VirtualService/default/reviews spec.http[0].route[0].destination.host',
      'f1.yaml VirtualService/default/reviews spec.http[0].route[1].destination.subset',
      'f1.yaml VirtualService/default/reviews spec.http[1].mirror.host',
      'f1.yaml VirtualService/default/reviews spec.http[1].route[0].destination.port.number',
      'f2.yaml DestinationRule/default/x spec.host',
    ]);
  });
});
