// Fields of Istio's API that the schemas accept but Meshlet does not apply,
// each with what happens when one is set: `error` refuses the resource (the
// field would change where traffic goes or who it applies to, so ignoring it
// would fail open), `warning` loads it and says, at load and in `meshlet
// analyze`, that the field has no effect. Every other declared field is
// applied. To support a field, implement it and delete its row here; to add a
// field to a schema without applying it yet, add it there with `declared`
// and add a row here.

import type { IstioKind } from './istio-resource.js';

export type Severity = 'error' | 'warning';

export interface FieldSupport {
  readonly kind: IstioKind;
  /** Dotted path from the resource root; `[]` walks every element of an array. */
  readonly path: string;
  readonly severity: Severity;
  readonly reason: string;
  /** Only when the value satisfies this (e.g. a non-default value). */
  readonly when?: (value: unknown) => boolean;
}

const TP_PATHS = ['spec.trafficPolicy', 'spec.subsets[].trafficPolicy'];
const TP_PORT_PATHS = [...TP_PATHS, ...TP_PATHS.map((p) => `${p}.portLevelSettings[]`)];

function each(bases: readonly string[], field: string, severity: Severity, reason: string): FieldSupport[] {
  return bases.map((b) => ({ kind: 'DestinationRule' as const, path: `${b}.${field}`, severity, reason }));
}

export const FIELD_SUPPORT: readonly FieldSupport[] = [
  // ---------------------------------------------------------------- VirtualService
  { kind: 'VirtualService', path: 'spec.tcp', severity: 'warning', reason: 'accepted, not applied: TCP connections are balanced over the destination service (tls routes are applied; tcp route matches and weights are not)' },
  { kind: 'VirtualService', path: 'spec.http[].delegate', severity: 'error', reason: 'delegate VirtualServices are not supported' },
  { kind: 'VirtualService', path: 'spec.http[].corsPolicy', severity: 'warning', reason: 'accepted, not applied: CORS preflights and headers are passed to the app unchanged' },
  { kind: 'VirtualService', path: 'spec.http[].match[].statPrefix', severity: 'warning', reason: 'accepted, not applied: metrics carry the route name only' },
  { kind: 'VirtualService', path: 'spec.http[].redirect.derivePort', severity: 'error', reason: 'not supported: give redirect.port explicitly' },
  { kind: 'VirtualService', path: 'spec.http[].redirect.prefixRewrite', severity: 'error', reason: 'not supported: use redirect.uri' },
  { kind: 'VirtualService', path: 'spec.http[].retries.retryRemoteLocalities', severity: 'warning', reason: 'accepted, not applied: Meshlet has no localities' },
  { kind: 'VirtualService', path: 'spec.http[].retries.backoff', severity: 'warning', reason: "accepted, not applied: retries back off with Envoy's default (25 ms base, jittered)" },
  {
    kind: 'VirtualService',
    path: 'spec.http[].retries.retryIgnorePreviousHosts',
    severity: 'error',
    reason: 'only true (the default) is supported: a retry always avoids the endpoints already tried',
    when: (v) => v === false,
  },
  { kind: 'VirtualService', path: 'spec.http[].fault.delay.exponentialDelay', severity: 'error', reason: 'not supported (Istio does not support it either): use fixedDelay' },
  { kind: 'VirtualService', path: 'spec.http[].fault.abort.http2Error', severity: 'error', reason: 'not supported: use httpStatus' },
  // ---------------------------------------------------------------- DestinationRule
  { kind: 'DestinationRule', path: 'spec.exportTo', severity: 'warning', reason: 'accepted, not applied: a DestinationRule applies in every namespace that sees its host (ServiceEntry/VirtualService exportTo are applied)' },
  { kind: 'DestinationRule', path: 'spec.workloadSelector', severity: 'error', reason: 'not supported: the rule would apply to every workload, not only the selected ones' },
  ...each(TP_PORT_PATHS, 'tls.credentialName', 'error', 'not supported on sidecars: give clientCertificate, privateKey and caCertificates as file paths'),
  ...each(TP_PORT_PATHS, 'tls.caCrl', 'error', 'not supported: revoked server certificates would be accepted'),
  ...each(TP_PATHS, 'tunnel', 'error', 'not supported: Meshlet cannot tunnel through an HTTP CONNECT proxy, so traffic would go direct'),
  ...each(TP_PATHS, 'proxyProtocol', 'error', 'not supported: Meshlet does not send a PROXY protocol header, which the destination expects'),
  ...each(TP_PATHS, 'retryBudget.budgetInterval', 'warning', 'accepted, not applied: the budget counts the requests active now (Envoy\'s behaviour without an interval)'),
  ...each(TP_PORT_PATHS, 'loadBalancer.localityLbSetting', 'warning', 'accepted, not applied: Meshlet has no localities'),
  ...each(TP_PORT_PATHS, 'loadBalancer.zoneAwareLbSetting', 'warning', 'accepted, not applied: Meshlet has no localities'),
  ...each(TP_PORT_PATHS, 'loadBalancer.warmupDurationSecs', 'warning', 'accepted, not applied: new endpoints get their full share at once'),
  ...each(TP_PORT_PATHS, 'loadBalancer.warmup', 'warning', 'accepted, not applied: new endpoints get their full share at once'),
  ...each(TP_PORT_PATHS, 'loadBalancer.consistentHash.httpCookie.attributes', 'warning', 'accepted, not applied: the generated cookie carries name, path and TTL only'),
  ...each(TP_PORT_PATHS, 'connectionPool.tcp.tcpKeepalive', 'warning', 'accepted, not applied: upstream sockets use the OS keepalive defaults'),
  ...each(TP_PORT_PATHS, 'connectionPool.tcp.maxConnectionDuration', 'warning', 'accepted, not applied: upstream connections live until idle or closed'),
  ...each(TP_PORT_PATHS, 'connectionPool.tcp.idleTimeout', 'warning', 'accepted, not applied: use connectionPool.http.idleTimeout'),
  ...each(TP_PORT_PATHS, 'connectionPool.http.useClientProtocol', 'warning', 'accepted, not applied: the upstream protocol follows the port (HTTP2/GRPC → HTTP/2) and h2UpgradePolicy'),
  ...each(TP_PORT_PATHS, 'connectionPool.http.http2KeepAlive', 'warning', 'accepted, not applied: idle HTTP/2 upstream connections close after connectionPool.http.idleTimeout'),
  ...each(TP_PORT_PATHS, 'outlierDetection.splitExternalLocalOriginErrors', 'warning', 'accepted, not applied: local-origin failures (connect errors, timeouts) count as gateway errors and 5xx, as when the split is off'),
  ...each(TP_PORT_PATHS, 'outlierDetection.consecutiveLocalOriginFailures', 'warning', 'accepted, not applied: local-origin failures count toward consecutive5xxErrors / consecutiveGatewayErrors'),
  ...each(TP_PORT_PATHS, 'outlierDetection.outlierDetectionHttpErrorCodes', 'error', 'not supported: only 5xx (consecutive5xxErrors) and 502/503/504 (consecutiveGatewayErrors) count as errors'),
  // ---------------------------------------------------------------- Sidecar (only outboundTrafficPolicy is applied)
  { kind: 'Sidecar', path: 'spec.workloadSelector', severity: 'error', reason: 'not supported: the policy would apply to every workload, not only the selected ones' },
  { kind: 'Sidecar', path: 'spec.egress', severity: 'error', reason: 'not supported: every sidecar sees every service (only outboundTrafficPolicy is applied)' },
  { kind: 'Sidecar', path: 'spec.ingress', severity: 'error', reason: 'not supported: inbound goes to 127.0.0.1:<original port> (only outboundTrafficPolicy is applied)' },
  { kind: 'Sidecar', path: 'spec.outboundTrafficPolicy.egressProxy', severity: 'error', reason: 'not supported: unknown destinations go to their original address or nowhere' },
  // ---------------------------------------------------------------- AuthorizationPolicy (authorization-policies.ts applies the rest)
  { kind: 'AuthorizationPolicy', path: 'spec.targetRef', severity: 'error', reason: 'not supported: Meshlet has no gateways or waypoints to attach a policy to (use selector)' },
  { kind: 'AuthorizationPolicy', path: 'spec.targetRefs', severity: 'error', reason: 'not supported: Meshlet has no gateways or waypoints to attach a policy to (use selector)' },
  {
    kind: 'AuthorizationPolicy',
    path: 'spec.provider',
    severity: 'error',
    reason: 'not supported: the CUSTOM action delegates to an external authorizer (ext_authz), which Meshlet does not have; the policy would not be enforced',
  },
  ...['requestPrincipals', 'notRequestPrincipals'].map((f) => ({
    kind: 'AuthorizationPolicy' as const,
    path: `spec.rules[].from[].source.${f}`,
    severity: 'error' as const,
    reason: 'not supported: Meshlet validates no JWTs (no RequestAuthentication), so there is no request principal to match',
  })),
  // ---------------------------------------------------------------- ServiceEntry
  { kind: 'ServiceEntry', path: 'spec.workloadSelector', severity: 'error', reason: 'not supported: Meshlet has no pod registry; list the endpoints instead' },
  { kind: 'ServiceEntry', path: 'spec.endpoints[].network', severity: 'warning', reason: 'accepted, not applied: Meshlet has one network' },
  { kind: 'ServiceEntry', path: 'spec.endpoints[].locality', severity: 'warning', reason: 'accepted, not applied: Meshlet has no localities' },
  {
    kind: 'ServiceEntry',
    path: 'spec.endpoints[].serviceAccount',
    severity: 'warning',
    reason: 'accepted, not applied: peer identities come from the sidecars the control plane knows and spec.subjectAltNames',
  },
];

export interface FieldFinding {
  readonly path: string;
  readonly severity: Severity;
  readonly reason: string;
}

/** Every row of FIELD_SUPPORT that applies to this resource, with the concrete path. */
export function findUnappliedFields(kind: IstioKind, resource: unknown, rows: readonly FieldSupport[] = FIELD_SUPPORT): FieldFinding[] {
  const out: FieldFinding[] = [];
  for (const row of rows) {
    if (row.kind !== kind) continue;
    walk(resource, row.path.split('.'), '', (value, path) => {
      if (value === undefined || (row.when !== undefined && !row.when(value))) return;
      out.push({ path, severity: row.severity, reason: row.reason });
    });
  }
  return out;
}

function walk(value: unknown, segs: readonly string[], at: string, visit: (v: unknown, path: string) => void): void {
  if (segs.length === 0) {
    visit(value, at);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const [seg, ...rest] = segs as [string, ...string[]];
  const isEach = seg.endsWith('[]');
  const key = isEach ? seg.slice(0, -2) : seg;
  const child = (value as Record<string, unknown>)[key];
  const here = at === '' ? key : `${at}.${key}`;
  if (!isEach) return walk(child, rest, here, visit);
  if (Array.isArray(child)) child.forEach((item, i) => walk(item, rest, `${here}[${i}]`, visit));
}
