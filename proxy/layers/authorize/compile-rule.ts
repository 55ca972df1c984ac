// One AuthorizationPolicy rule → two predicates over AuthzAttributes, built
// once per snapshot: one for HTTP requests, one for TCP connections. On TCP,
// HTTP-only fields (hosts, methods, paths, request.headers) cannot be
// evaluated; Istio then makes an ALLOW (or AUDIT) rule that uses them match
// nothing, and drops them from a DENY rule (a missing attribute counts as a
// match there), so a DENY scoped by method denies all TCP on that port.
import type { AuthzAction, AuthzConditionModel, AuthzOperationModel, AuthzRuleModel, AuthzSourceModel } from '../../config/model/index.js';
import { compileIpBlocks } from './ip-blocks.js';
import { compileAnyOf, type ValueTest } from './value-pattern.js';

/** The verified peer of the connection (proxy/identity's PeerIdentity fits). */
export interface AuthzPeer {
  readonly principal: string;
  readonly namespace: string;
  readonly trustDomain: string;
}

/** What a rule reads. One mutable instance per Authorizer, refilled per check (no allocation). */
export interface AuthzAttributes {
  method: string;
  /** Path without the query string, as normalised by the route layer. */
  path: string;
  /** Host header / :authority, lower-cased. */
  host: string;
  headers: Readonly<Record<string, string | string[] | undefined>> | undefined;
  port: number;
  sourceIp: string;
  destinationIp: string;
  peer: AuthzPeer | undefined;
  sni: string | undefined;
}

export type Predicate = (a: AuthzAttributes) => boolean;

const ALWAYS: Predicate = () => true;
const NEVER: Predicate = () => false;

export interface CompiledRule {
  readonly http: Predicate;
  readonly tcp: Predicate;
}

export function compileRule(rule: AuthzRuleModel, action: AuthzAction): CompiledRule {
  const httpOnly = usesHttpOnly(rule);
  const http = all([anyOf((rule.from ?? []).map((s) => compileSource(s))), anyOf((rule.to ?? []).map((o) => compileOperation(o, true))), ...(rule.when ?? []).map((c) => compileCondition(c, true))]);
  let tcp: Predicate;
  if (!httpOnly) tcp = http;
  else if (action !== 'DENY') tcp = NEVER;
  else tcp = all([anyOf((rule.from ?? []).map((s) => compileSource(s))), anyOf((rule.to ?? []).map((o) => compileOperation(o, false))), ...(rule.when ?? []).map((c) => compileCondition(c, false))]);
  return { http, tcp };
}

function usesHttpOnly(rule: AuthzRuleModel): boolean {
  const op = (rule.to ?? []).some((o) => [o.hosts, o.notHosts, o.methods, o.notMethods, o.paths, o.notPaths].some((l) => l !== undefined));
  return op || (rule.when ?? []).some((c) => c.key === 'request.headers');
}

/** OR over the list; an absent (empty) list matches anything. */
function anyOf(list: readonly Predicate[]): Predicate {
  if (list.length === 0) return ALWAYS;
  if (list.length === 1) return list[0]!;
  return (a) => {
    for (let i = 0; i < list.length; i++) if (list[i]!(a)) return true;
    return false;
  };
}

function all(list: readonly Predicate[]): Predicate {
  const real = list.filter((p) => p !== ALWAYS);
  if (real.length === 0) return ALWAYS;
  if (real.length === 1) return real[0]!;
  return (a) => {
    for (let i = 0; i < real.length; i++) if (!real[i]!(a)) return false;
    return true;
  };
}

/** `values` (any matches) and `notValues` (none matches) over one attribute. */
function field(read: (a: AuthzAttributes) => string | undefined, yes: ValueTest | undefined, no: ValueTest | undefined): Predicate {
  if (yes !== undefined && no !== undefined) return (a) => yes(read(a)) && !no(read(a));
  if (yes !== undefined) return (a) => yes(read(a));
  if (no !== undefined) return (a) => !no(read(a));
  return ALWAYS;
}

const opt = (list: readonly string[] | undefined, ignoreCase = false): ValueTest | undefined => (list === undefined ? undefined : compileAnyOf(list, ignoreCase));
const ips = (list: readonly string[] | undefined): ValueTest | undefined => (list === undefined ? undefined : compileIpBlocks(list));
const readPrincipal = (a: AuthzAttributes): string | undefined => a.peer?.principal;
const readNamespace = (a: AuthzAttributes): string | undefined => a.peer?.namespace;
const readTrustDomain = (a: AuthzAttributes): string | undefined => a.peer?.trustDomain;
const readSourceIp = (a: AuthzAttributes): string => a.sourceIp;

function compileSource(s: AuthzSourceModel): Predicate {
  return all([
    field(readPrincipal, opt(s.principals), opt(s.notPrincipals)),
    field(readNamespace, opt(s.namespaces), opt(s.notNamespaces)),
    field(readTrustDomain, opt(s.trustDomains), opt(s.notTrustDomains)),
    field(readSourceIp, ips(s.ipBlocks), ips(s.notIpBlocks)),
    field(readSourceIp, ips(s.remoteIpBlocks), ips(s.notRemoteIpBlocks)),
  ]);
}

function ports(list: readonly number[] | undefined): ValueTest | undefined {
  if (list === undefined) return undefined;
  const set = new Set(list.map(String));
  return (v) => v !== undefined && set.has(v);
}

/** Authority with and without its port, so `hosts: [reviews]` matches `reviews:9080` too. */
function hostTest(list: readonly string[] | undefined): ValueTest | undefined {
  const t = opt(list, true);
  if (t === undefined) return undefined;
  return (v) => {
    if (v === undefined) return false;
    if (t(v)) return true;
    const colon = v.lastIndexOf(':');
    return colon > 0 && v.indexOf(']', colon) < 0 && t(v.slice(0, colon));
  };
}

function compileOperation(o: AuthzOperationModel, http: boolean): Predicate {
  const portPred = field((a) => String(a.port), ports(o.ports), ports(o.notPorts));
  if (!http) return portPred;
  return all([
    portPred,
    field((a) => a.host, hostTest(o.hosts), hostTest(o.notHosts)),
    field((a) => a.method, opt(o.methods), opt(o.notMethods)),
    field((a) => a.path, opt(o.paths), opt(o.notPaths)),
  ]);
}

function headerValue(a: AuthzAttributes, name: string): string | undefined {
  const v = a.headers?.[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function compileCondition(c: AuthzConditionModel, http: boolean): Predicate {
  const ipKey = c.key === 'source.ip' || c.key === 'remote.ip' || c.key === 'destination.ip';
  const test = (list: readonly string[] | undefined): ValueTest | undefined => (list === undefined || list.length === 0 ? undefined : ipKey ? compileIpBlocks(list) : compileAnyOf(list));
  const yes = test(c.values);
  const no = test(c.notValues);
  switch (c.key) {
    case 'request.headers': {
      if (!http) return ALWAYS;
      const name = c.header ?? '';
      return field((a) => headerValue(a, name), yes, no);
    }
    case 'source.ip':
    case 'remote.ip':
      return field(readSourceIp, yes, no);
    case 'destination.ip':
      return field((a) => a.destinationIp, yes, no);
    case 'source.namespace':
      return field(readNamespace, yes, no);
    case 'source.principal':
      return field(readPrincipal, yes, no);
    case 'destination.port':
      return field((a) => String(a.port), yes, no);
    case 'connection.sni':
      return field((a) => a.sni, yes, no);
  }
}
