// Istio's AuthorizationPolicy semantics, table-driven: YAML through the real
// parser and translation, then the compiled layer. The attributes are what
// the inbound pipeline fills from a real request (authorize-inbound.ts).
import { describe, expect, it } from 'vitest';
import { parseIstioYaml } from '../../config/istio/index.js';
import { translate } from '../../config/translate/index.js';
import type { AuthzAttributes } from './compile-rule.js';
import { Authorizer } from './authorizer.js';

function policies(yaml: string): Authorizer | null {
  const parsed = parseIstioYaml(yaml, 'p.yaml');
  if (parsed.issues.length > 0) throw new Error(JSON.stringify(parsed.issues));
  const t = translate(parsed.resources);
  if (!t.ok) throw new Error(JSON.stringify(t.issues));
  return Authorizer.compile(t.config.authorizationPolicies, { namespace: 'default', labels: { app: 'reviews', version: 'v1' } });
}

const PRODUCTPAGE = { principal: 'cluster.local/ns/default/sa/bookinfo-productpage', namespace: 'default', trustDomain: 'cluster.local' };
const RATINGS = { principal: 'cluster.local/ns/default/sa/bookinfo-ratings', namespace: 'default', trustDomain: 'cluster.local' };
const OTHER_NS = { principal: 'cluster.local/ns/dev/sa/tool', namespace: 'dev', trustDomain: 'cluster.local' };

type Req = Partial<AuthzAttributes> & { tcp?: boolean };
function check(authz: Authorizer | null, req: Req): boolean {
  if (authz === null) return true;
  const base: AuthzAttributes = { method: 'GET', path: '/', host: 'reviews:9080', headers: {}, port: 9080, sourceIp: '10.0.0.5', destinationIp: '10.0.0.9', peer: undefined, sni: undefined };
  Object.assign(authz.attrs, base, req);
  return authz.check(req.tcp !== true).allowed;
}

const ap = (name: string, spec: string, ns = 'default'): string => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: ${ns} }\nspec:\n${spec}\n---\n`;

describe('AuthorizationPolicy evaluation (Istio order: DENY, then ALLOW; none = allow)', () => {
  it('no policy selecting the workload: no layer at all (allow, zero cost)', () => {
    expect(policies(ap('other', '  selector: { matchLabels: { app: ratings } }\n  rules: [{}]'))).toBeNull();
    expect(policies(ap('elsewhere', '  {}', 'prod'))).toBeNull();
  });

  it('an empty ALLOW spec denies everything; `rules: [{}]` allows everything', () => {
    const none = policies(ap('allow-nothing', '  {}'));
    expect(check(none, {})).toBe(false);
    expect(check(none, { tcp: true })).toBe(false);
    const all = policies(ap('allow-nothing', '  {}') + ap('allow-all', '  rules: [{}]'));
    expect(check(all, {})).toBe(true);
  });

  it('a DENY with no rules matches nothing; DENY wins over ALLOW', () => {
    expect(check(policies(ap('d', '  action: DENY')), {})).toBe(true);
    const both = policies(ap('allow-all', '  rules: [{}]') + ap('deny-post', '  action: DENY\n  rules: [{ to: [{ operation: { methods: [POST] } }] }]'));
    expect(check(both, { method: 'GET' })).toBe(true);
    expect(check(both, { method: 'POST' })).toBe(false);
  });

  it('principals / notPrincipals / namespaces from the verified peer; plaintext has no principal', () => {
    const a = policies(ap('pp-only', '  rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/bookinfo-productpage"] } }] }]'));
    expect(check(a, { peer: PRODUCTPAGE })).toBe(true);
    expect(check(a, { peer: RATINGS })).toBe(false);
    expect(check(a, { peer: undefined })).toBe(false);
    const ns = policies(ap('ns', '  rules: [{ from: [{ source: { namespaces: [default], notPrincipals: ["*/sa/bookinfo-ratings"] } }] }]'));
    expect(check(ns, { peer: PRODUCTPAGE })).toBe(true);
    expect(check(ns, { peer: RATINGS })).toBe(false);
    expect(check(ns, { peer: OTHER_NS })).toBe(false);
    const anyAuth = policies(ap('mtls-only', '  rules: [{ from: [{ source: { principals: ["*"] } }] }]'));
    expect(check(anyAuth, { peer: OTHER_NS })).toBe(true);
    expect(check(anyAuth, {})).toBe(false);
    const sa = policies(ap('sa', '  rules: [{ from: [{ source: { serviceAccounts: [bookinfo-productpage] } }] }]'));
    expect(check(sa, { peer: PRODUCTPAGE })).toBe(true);
    expect(check(sa, { peer: RATINGS })).toBe(false);
  });

  it('ipBlocks / notIpBlocks / remoteIpBlocks (CIDR and single IPs, v4 and v6)', () => {
    const a = policies(ap('ips', '  rules: [{ from: [{ source: { ipBlocks: ["10.0.0.0/24", "fd00::1"], notIpBlocks: ["10.0.0.7"] } }] }]'));
    expect(check(a, { sourceIp: '10.0.0.5' })).toBe(true);
    expect(check(a, { sourceIp: '10.0.0.7' })).toBe(false);
    expect(check(a, { sourceIp: '10.0.1.5' })).toBe(false);
    expect(check(a, { sourceIp: 'fd00::1' })).toBe(true);
    const r = policies(ap('remote', '  action: DENY\n  rules: [{ from: [{ source: { remoteIpBlocks: ["192.168.0.0/16"] } }] }]'));
    expect(check(r, { sourceIp: '192.168.3.4' })).toBe(false);
    expect(check(r, { sourceIp: '10.0.0.1', headers: { 'x-forwarded-for': '192.168.3.4' } })).toBe(true);
  });

  it('operations: methods, paths (exact, prefix, suffix, presence), ports, hosts, and their negations', () => {
    const a = policies(
      ap('ops', '  rules:\n  - to: [{ operation: { methods: [GET, HEAD], paths: ["/api/*", "*.css", "/health"], notPaths: ["/api/admin*"] } }]\n  - to: [{ operation: { ports: ["9090"] } }]\n  - to: [{ operation: { hosts: ["*.example.com"], notHosts: ["bad.example.com"] } }]'),
    );
    expect(check(a, { path: '/api/x' })).toBe(true);
    expect(check(a, { path: '/api' })).toBe(false);
    expect(check(a, { path: '/site.css', method: 'HEAD' })).toBe(true);
    expect(check(a, { path: '/health' })).toBe(true);
    expect(check(a, { path: '/healthz' })).toBe(false);
    expect(check(a, { path: '/api/admin/users' })).toBe(false);
    expect(check(a, { path: '/api/x', method: 'POST' })).toBe(false);
    expect(check(a, { path: '/anything', method: 'POST', port: 9090 })).toBe(true);
    expect(check(a, { path: '/x', method: 'DELETE', host: 'Good.Example.com:8080' })).toBe(true);
    expect(check(a, { path: '/x', method: 'DELETE', host: 'bad.example.com' })).toBe(false);
  });

  it('when: request.headers, source.ip, source.namespace, source.principal, destination.port, connection.sni', () => {
    const a = policies(
      ap(
        'when',
        '  rules:\n  - when: [{ key: "request.headers[X-Team]", values: [blue, "green*"] }, { key: destination.port, notValues: ["9999"] }]\n  - when: [{ key: source.principal, values: ["*/sa/bookinfo-productpage"] }, { key: source.namespace, values: [default] }]\n  - when: [{ key: connection.sni, values: ["*.mesh"] }, { key: source.ip, values: ["10.1.0.0/16"] }]',
      ),
    );
    expect(check(a, { headers: { 'x-team': 'blue' } })).toBe(true);
    expect(check(a, { headers: { 'x-team': 'greenish' } })).toBe(true);
    expect(check(a, { headers: { 'x-team': 'blue' }, port: 9999 })).toBe(false);
    expect(check(a, { headers: { 'x-team': 'red' } })).toBe(false);
    expect(check(a, { peer: PRODUCTPAGE })).toBe(true);
    expect(check(a, { peer: RATINGS })).toBe(false);
    expect(check(a, { sni: 'reviews.mesh', sourceIp: '10.1.2.3' })).toBe(true);
    expect(check(a, { sni: 'reviews.mesh', sourceIp: '10.2.2.3' })).toBe(false);
  });

  it('TCP: an ALLOW rule with HTTP-only fields matches nothing; a DENY rule drops them (denies the whole port)', () => {
    const allow = policies(ap('a', '  rules:\n  - to: [{ operation: { methods: [GET], ports: ["9000"] } }]\n  - to: [{ operation: { ports: ["9001"] } }]'));
    expect(check(allow, { tcp: true, port: 9000 })).toBe(false);
    expect(check(allow, { tcp: true, port: 9001 })).toBe(true);
    expect(check(allow, { port: 9000 })).toBe(true);
    const deny = policies(ap('d', '  action: DENY\n  rules: [{ to: [{ operation: { methods: [POST], ports: ["9000"] } }] }]'));
    expect(check(deny, { tcp: true, port: 9000 })).toBe(false);
    expect(check(deny, { tcp: true, port: 9001 })).toBe(true);
    expect(check(deny, { port: 9000, method: 'GET' })).toBe(true);
  });

  it('AUDIT never changes the outcome, and reports the policy that matched', () => {
    const a = policies(ap('audit-users', '  action: AUDIT\n  rules: [{ to: [{ operation: { paths: ["/user/*"] } }] }]'));
    expect(a).not.toBeNull();
    expect(check(a, { path: '/user/1' })).toBe(true);
    expect(a!.audited).toBe('default/audit-users');
    expect(check(a, { path: '/other' })).toBe(true);
    expect(a!.audited).toBe('');
  });

  it('scope: same namespace or the root namespace (istio-system), and the selector labels', () => {
    const mesh = policies(ap('mesh-deny', '  action: DENY\n  rules: [{ to: [{ operation: { paths: ["/secret"] } }] }]', 'istio-system'));
    expect(check(mesh, { path: '/secret' })).toBe(false);
    const sel = policies(ap('v1-only', '  selector: { matchLabels: { app: reviews, version: v1 } }\n  rules: [{ to: [{ operation: { methods: [GET] } }] }]'));
    expect(check(sel, { method: 'PUT' })).toBe(false);
  });

  it('the denial says which policy decided', () => {
    const a = policies(ap('allow-get', '  rules: [{ to: [{ operation: { methods: [GET] } }] }]') + ap('deny-x', '  action: DENY\n  rules: [{ to: [{ operation: { paths: ["/x"] } }] }]'));
    Object.assign(a!.attrs, { method: 'GET', path: '/x', host: '', headers: {}, port: 1, sourceIp: '', destinationIp: '', peer: undefined, sni: undefined });
    expect(a!.check(true)).toMatchObject({ allowed: false, policy: 'default/deny-x', detail: 'rbac_access_denied_matched_policy[default/deny-x]' });
    a!.attrs.path = '/y';
    a!.attrs.method = 'POST';
    expect(a!.check(true)).toMatchObject({ allowed: false, policy: '', detail: 'rbac_access_denied_matched_policy[none]' });
  });
});
