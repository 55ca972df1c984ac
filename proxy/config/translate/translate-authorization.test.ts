// AuthorizationPolicy translation fails closed: everything Meshlet cannot
// enforce exactly is refused with file, resource, field and reason.
import { describe, expect, it } from 'vitest';
import { parseIstioYaml } from '../istio/index.js';
import type { ConfigIssue } from '../model/index.js';
import { translate } from './translate.js';

function issuesOf(spec: string): ConfigIssue[] {
  const yaml = `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p, namespace: shop }\nspec:\n${spec}\n`;
  const parsed = parseIstioYaml(yaml, 'authz.yaml');
  if (parsed.issues.length > 0) return parsed.issues;
  const t = translate(parsed.resources);
  return t.ok ? [] : t.issues;
}

describe('AuthorizationPolicy translation', () => {
  it('accepts a full policy and keeps it whole', () => {
    const yaml = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: { name: reviews-viewer, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/shop/sa/productpage"] } }]
    to: [{ operation: { methods: [GET], paths: ["/reviews/*"], ports: ["9080"] } }]
    when: [{ key: "request.headers[X-User]", values: ["*"] }]
`;
    const parsed = parseIstioYaml(yaml, 'a.yaml');
    expect(parsed.issues).toEqual([]);
    const t = translate(parsed.resources);
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    expect(t.config.authorizationPolicies).toEqual([
      {
        name: 'shop/reviews-viewer',
        namespace: 'shop',
        selector: { app: 'reviews' },
        action: 'ALLOW',
        rules: [
          {
            from: [{ principals: ['cluster.local/ns/shop/sa/productpage'] }],
            to: [{ methods: ['GET'], paths: ['/reviews/*'], ports: [9080] }],
            when: [{ key: 'request.headers', header: 'x-user', values: ['*'] }],
          },
        ],
        source: 'AuthorizationPolicy/shop/reviews-viewer',
      },
    ]);
  });

  it.each([
    ['  action: CUSTOM', 'spec.action', /CUSTOM is not supported/],
    ['  action: CUSTOM\n  provider: { name: ext }', 'spec.provider', /external authorizer/],
    ['  targetRefs: [{ kind: Gateway, name: gw }]', 'spec.targetRefs', /not supported/],
    ['  rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }]', 'spec.rules[0].from[0].source.requestPrincipals', /no JWT/],
    ['  rules: [{ when: [{ key: "request.auth.claims[iss]", values: [x] }] }]', 'spec.rules[0].when[0].key', /no JWT/],
    ['  rules: [{ when: [{ key: source.planet, values: [x] }] }]', 'spec.rules[0].when[0].key', /unknown or unsupported condition key "source.planet"/],
    ['  rules: [{ when: [{ key: source.ip }] }]', 'spec.rules[0].when[0]', /values.*notValues/],
    ['  rules: [{ from: [{ source: { ipBlocks: ["10.0.0.300"] } }] }]', 'spec.rules[0].from[0].source.ipBlocks[0]', /not an IP/],
    ['  rules: [{ from: [{ source: { notIpBlocks: ["10.0.0.0/33"] } }] }]', 'spec.rules[0].from[0].source.notIpBlocks[0]', /prefix length/],
    ['  rules: [{ to: [{ operation: { ports: ["http"] } }] }]', 'spec.rules[0].to[0].operation.ports[0]', /not a port number/],
    ['  rules: [{ to: [{ operation: { paths: ["/a/{*}"] } }] }]', 'spec.rules[0].to[0].operation.paths[0]', /templates/],
    ['  rules: [{ from: [{ source: {} }] }]', 'spec.rules[0].from[0].source', /must not be empty/],
    ['  rules: [{ to: [{}] }]', 'spec.rules[0].to[0].operation', /must be set/],
    ['  rules: [{ from: [{ source: { serviceAccounts: [a], namespaces: [b] } }] }]', 'spec.rules[0].from[0].source.serviceAccounts', /cannot be set together/],
    ['  rules: [{ from: [{ source: { principal: [a] } }] }]', 'spec.rules[0].from[0].source.principal', /principals/],
    ['  action: PERMIT', 'spec.action', /ALLOW/],
  ])('refuses %j at %s', (spec, path, reason) => {
    const issues = issuesOf(spec);
    const hit = issues.find((i) => i.path === path);
    expect(hit, JSON.stringify(issues)).toBeDefined();
    expect(hit!.reason).toMatch(reason);
    expect(hit!.resource).toBe('AuthorizationPolicy/shop/p');
    expect(hit!.file).toBe('authz.yaml');
  });
});
