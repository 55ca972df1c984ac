// Istio AuthorizationPolicy → AuthorizationPolicyModel. Fail closed: anything
// we could not enforce exactly (CUSTOM, JWT attributes, unknown condition
// keys, malformed IPs or ports, path templates) is an error on its field, so
// a policy is either applied as Istio would apply it or refused with a reason.
// Shapes were checked by the schema; this checks meanings.

import { isIP } from 'node:net';
import type {
  AuthorizationPolicyModel,
  AuthzConditionKey,
  AuthzConditionModel,
  AuthzOperationModel,
  AuthzRuleModel,
  AuthzSourceModel,
  ConfigIssue,
} from '../model/index.js';
import type { IstioAuthorizationPolicy, IstioAuthzCondition, IstioAuthzOperation, IstioAuthzSource } from '../istio/index.js';
import { issueFor } from './issue-for.js';

const PLAIN_KEYS: ReadonlySet<string> = new Set<AuthzConditionKey>([
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
  'destination.ip',
  'destination.port',
  'connection.sni',
]);
const IP_KEYS: ReadonlySet<string> = new Set(['source.ip', 'remote.ip', 'destination.ip']);
const HEADER_KEY = /^request\.headers\[([^\]]+)\]$/;

type Report = (path: string, reason: string) => void;

export function toAuthorizationPolicies(policies: readonly IstioAuthorizationPolicy[], issues: ConfigIssue[]): AuthorizationPolicyModel[] {
  const out: AuthorizationPolicyModel[] = [];
  for (const ap of policies) {
    const before = issues.length;
    const report: Report = (path, reason) => issues.push(issueFor(ap, path, reason));
    const model = toPolicy(ap, report);
    if (issues.length === before) out.push(model);
  }
  return out;
}

function toPolicy(ap: IstioAuthorizationPolicy, report: Report): AuthorizationPolicyModel {
  const spec = ap.spec;
  const action = spec.action ?? 'ALLOW';
  if (action === 'CUSTOM') {
    report('spec.action', 'CUSTOM is not supported: it delegates the decision to an external authorizer (Istio ext_authz), which Meshlet does not have; refused rather than enforced as nothing');
  }
  const ns = ap.metadata.namespace;
  const rules = (spec.rules ?? []).map((r, i): AuthzRuleModel => {
    const at = `spec.rules[${i}]`;
    const rule: { from?: AuthzSourceModel[]; to?: AuthzOperationModel[]; when?: AuthzConditionModel[] } = {};
    if (r.from !== undefined) {
      rule.from = r.from.map((f, j) => {
        if (f.source === undefined) report(`${at}.from[${j}].source`, '`source` must be set');
        return toSource(f.source ?? {}, ns, `${at}.from[${j}].source`, report);
      });
    }
    if (r.to !== undefined) {
      rule.to = r.to.map((t, j) => {
        if (t.operation === undefined) report(`${at}.to[${j}].operation`, '`operation` must be set');
        return toOperation(t.operation ?? {}, `${at}.to[${j}].operation`, report);
      });
    }
    if (r.when !== undefined) rule.when = r.when.map((c, j) => toCondition(c, `${at}.when[${j}]`, report));
    return rule;
  });
  const labels = spec.selector?.matchLabels;
  return {
    name: `${ns}/${ap.metadata.name}`,
    namespace: ns,
    ...(labels !== undefined && Object.keys(labels).length > 0 ? { selector: labels } : {}),
    action: action === 'CUSTOM' ? 'DENY' : action,
    rules,
    source: `AuthorizationPolicy/${ns}/${ap.metadata.name}`,
  };
}

function toSource(s: IstioAuthzSource, policyNs: string, at: string, report: Report): AuthzSourceModel {
  const out: { -readonly [K in keyof AuthzSourceModel]: AuthzSourceModel[K] } = {};
  if (Object.values(s).every((v) => v === undefined)) report(at, '`source` must not be empty (leave `from` out to match any source)');
  const hasSa = s.serviceAccounts !== undefined || s.notServiceAccounts !== undefined;
  if (hasSa && (s.principals !== undefined || s.notPrincipals !== undefined || s.namespaces !== undefined || s.notNamespaces !== undefined)) {
    report(`${at}.serviceAccounts`, 'cannot be set together with principals or namespaces (Istio forbids it)');
  }
  for (const k of ['principals', 'notPrincipals', 'namespaces', 'notNamespaces', 'trustDomains', 'notTrustDomains'] as const) {
    if (s[k] !== undefined) out[k] = s[k];
  }
  // `ns/sa` (or `sa`, in the policy's namespace) is a principal in any trust domain.
  const sa = (list: readonly string[] | undefined, field: string): string[] | undefined =>
    list?.map((v, i) => {
      if (v.includes('*')) report(`${at}.${field}[${i}]`, 'no wildcard is allowed in a service account');
      const slash = v.indexOf('/');
      const [ns, name] = slash < 0 ? [policyNs, v] : [v.slice(0, slash), v.slice(slash + 1)];
      if (ns === '' || name === '' || name.includes('/')) report(`${at}.${field}[${i}]`, `"${v}" is not <namespace>/<serviceaccount> or <serviceaccount>`);
      return `*/ns/${ns}/sa/${name}`;
    });
  const principals = sa(s.serviceAccounts, 'serviceAccounts');
  if (principals !== undefined) out.principals = principals;
  const notPrincipals = sa(s.notServiceAccounts, 'notServiceAccounts');
  if (notPrincipals !== undefined) out.notPrincipals = notPrincipals;
  for (const k of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) {
    const list = s[k];
    if (list === undefined) continue;
    list.forEach((v, i) => checkIpBlock(v, `${at}.${k}[${i}]`, report));
    out[k] = list;
  }
  return out;
}

function toOperation(o: IstioAuthzOperation, at: string, report: Report): AuthzOperationModel {
  const out: { -readonly [K in keyof AuthzOperationModel]: AuthzOperationModel[K] } = {};
  if (Object.values(o).every((v) => v === undefined)) report(at, '`operation` must not be empty (leave `to` out to match any operation)');
  if (o.hosts !== undefined) out.hosts = o.hosts.map((h) => h.toLowerCase());
  if (o.notHosts !== undefined) out.notHosts = o.notHosts.map((h) => h.toLowerCase());
  for (const k of ['methods', 'notMethods'] as const) if (o[k] !== undefined) out[k] = o[k];
  for (const k of ['paths', 'notPaths'] as const) {
    const list = o[k];
    if (list === undefined) continue;
    list.forEach((p, i) => {
      if (p.includes('{')) report(`${at}.${k}[${i}]`, 'path templates ({*}, {**}) are not supported: use exact, prefix (`/a/*`) or suffix (`*.txt`) paths');
    });
    out[k] = list;
  }
  for (const k of ['ports', 'notPorts'] as const) {
    const list = o[k];
    if (list === undefined) continue;
    out[k] = list.map((p, i) => {
      const n = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
      if (!(n >= 1 && n <= 65535)) report(`${at}.${k}[${i}]`, `"${p}" is not a port number (1..65535)`);
      return n;
    });
  }
  return out;
}

function toCondition(c: IstioAuthzCondition, at: string, report: Report): AuthzConditionModel {
  if ((c.values ?? []).length === 0 && (c.notValues ?? []).length === 0) report(at, 'one of `values` or `notValues` must be set');
  const values = { ...(c.values !== undefined ? { values: c.values } : {}), ...(c.notValues !== undefined ? { notValues: c.notValues } : {}) };
  const header = HEADER_KEY.exec(c.key);
  if (header !== null) return { key: 'request.headers', header: header[1]!.toLowerCase(), ...values };
  if (!PLAIN_KEYS.has(c.key)) {
    const why = c.key.startsWith('request.auth.')
      ? 'not supported: Meshlet validates no JWTs (no RequestAuthentication), so there is no request.auth attribute'
      : `unknown or unsupported condition key "${c.key}" (supported: request.headers[<name>], ${[...PLAIN_KEYS].join(', ')})`;
    report(`${at}.key`, why);
    return { key: 'source.ip', ...values };
  }
  const all = [...(c.values ?? []), ...(c.notValues ?? [])];
  if (IP_KEYS.has(c.key)) all.forEach((v) => checkIpBlock(v, `${at}.values`, report));
  if (c.key === 'destination.port') {
    for (const v of all) if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535) report(`${at}.values`, `"${v}" is not a port number (1..65535)`);
  }
  return { key: c.key as AuthzConditionKey, ...values };
}

/** `10.0.0.1`, `10.0.0.0/8`, `fd00::/8`. */
function checkIpBlock(v: string, at: string, report: Report): void {
  const slash = v.indexOf('/');
  const ip = slash < 0 ? v : v.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) {
    report(at, `"${v}" is not an IP address or CIDR block`);
    return;
  }
  if (slash < 0) return;
  const bits = v.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) report(at, `"${v}": prefix length must be 0..${max}`);
}
