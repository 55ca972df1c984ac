// Meshlet's own config model: what a sidecar runs. It is produced by the Istio
// translation (proxy/config/translate), carried over the wire by the control plane
// (as JSON inside the proto envelope) and compiled into a runtime snapshot
// (proxy/snapshot). It imports nothing, so both the proxy and the control plane
// can depend on it. Every type is readonly data: a snapshot is never mutated.
import type { AuthorizationPolicyModel } from './authorization.js';

/** Durations are plain milliseconds everywhere in the model. */
export type Millis = number;

export interface MeshConfig {
  /** Opaque version string (content hash or control-plane generation). */
  readonly version: string;
  readonly services: readonly ServiceModel[];
  readonly clusters: readonly ClusterModel[];
  readonly virtualHosts: readonly VirtualHostModel[];
  /** TLS passthrough routes by SNI (VirtualService `tls:`), in declaration order. */
  readonly tlsRoutes?: readonly TlsRouteModel[];
  /** Istio `Sidecar` outboundTrafficPolicy.mode; absent = the proxy's flag decides. */
  readonly outboundTrafficPolicy?: OutboundTrafficPolicy;
  /** PeerAuthentication policies of every namespace; each sidecar picks the ones that apply to it. */
  readonly peerAuthentications?: readonly PeerAuthenticationModel[];
  /** Istio AuthorizationPolicies of the whole mesh; each sidecar enforces those that select it (authorization.ts). */
  readonly authorizationPolicies?: readonly AuthorizationPolicyModel[];
}

/** What happens to traffic for destinations no ServiceEntry declares (Istio's meshConfig.outboundTrafficPolicy). */
export type OutboundTrafficPolicy = 'ALLOW_ANY' | 'REGISTRY_ONLY';

// ---------------------------------------------------------------- services

export interface ServicePort {
  readonly number: number;
  readonly name: string;
  /**
   * HTTP, HTTP2, GRPC, TCP, ... upper-cased as Istio writes them; AUTO when
   * neither the protocol nor the name prefix says (Istio's auto-detection:
   * the listener sniffs each connection's first bytes).
   */
  readonly protocol: string;
  readonly targetPort?: number;
}

export interface ServiceModel {
  /** Fully-qualified host (`reviews.default.svc.cluster.local`, or an external name as written). */
  readonly host: string;
  readonly namespace: string;
  readonly ports: readonly ServicePort[];
  /** ServiceEntry `addresses`: VIPs or CIDRs that identify its TCP traffic by original destination. */
  readonly addresses?: readonly string[];
  /** Where this came from, for error messages and config_dump (`ServiceEntry/default/reviews`). */
  readonly source: string;
  /**
   * Namespaces that may see this service (Istio `exportTo`, `.` resolved to the
   * declaring namespace; empty = none); absent = every namespace. The control
   * plane scopes each sidecar's snapshot by it; a sidecar ignores it.
   */
  readonly exportTo?: readonly string[];
}

// ---------------------------------------------------------------- clusters

/**
 * One upstream destination: a service host + port + optional subset, with its
 * endpoints and its destination policy (what Envoy calls a cluster). Named like
 * Istio's clusters: `outbound|9080|v1|reviews.default.svc.cluster.local`.
 */
export interface ClusterModel {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly subset?: string;
  /** `static`: endpoints are addresses. `dns`: each endpoint address is a name resolved at runtime (dns.lookup all). */
  readonly discovery: 'static' | 'dns';
  readonly endpoints: readonly EndpointModel[];
  readonly policy: ClusterPolicy;
  /**
   * Protocol spoken to the endpoints. `http2` for HTTP2/GRPC ports (or
   * `h2UpgradePolicy: UPGRADE`), `downstream` = whatever the caller spoke
   * (the inbound app cluster); absent = HTTP/1.1.
   */
  readonly protocol?: UpstreamProtocol;
  /** DestinationRule `trafficPolicy.tls`; absent = automatic mTLS (to endpoints that run a sidecar). */
  readonly tls?: UpstreamTlsPolicy;
  /**
   * SPIFFE IDs the endpoints may present under mesh mTLS (the service's
   * accounts: sidecars known to serve it, ServiceEntry `subjectAltNames`).
   * Absent or empty: any identity the mesh root signed.
   */
  readonly peerIdentities?: readonly string[];
}

/** How the outbound side secures connections to a cluster's endpoints (Istio ClientTLSSettings). */
export type UpstreamTlsPolicy =
  | { readonly mode: 'DISABLE' }
  | {
      readonly mode: 'ISTIO_MUTUAL';
      readonly sni?: string;
      /** Overrides `peerIdentities`: the peer must present one of these (URI or DNS SAN). */
      readonly subjectAltNames?: readonly string[];
    }
  | {
      readonly mode: 'SIMPLE' | 'MUTUAL';
      readonly sni?: string;
      readonly subjectAltNames?: readonly string[];
      /** File paths on the sidecar (PEM). No caCertificates: the system roots. */
      readonly caCertificates?: string;
      readonly clientCertificate?: string;
      readonly privateKey?: string;
      readonly insecureSkipVerify?: boolean;
    };

export type UpstreamTlsMode = UpstreamTlsPolicy['mode'];

/** Inbound mTLS mode (Istio PeerAuthentication `mtls.mode`, UNSET resolved away). */
export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/**
 * One PeerAuthentication. `mesh`: in the root namespace without a selector;
 * `namespace`: without a selector; `workload`: with one. `mode` absent = UNSET
 * (inherit from the wider scope); `ports` only on workload policies.
 */
export interface PeerAuthenticationModel {
  /** `PeerAuthentication/ns/name`. */
  readonly source: string;
  readonly namespace: string;
  readonly scope: 'mesh' | 'namespace' | 'workload';
  readonly selector?: Readonly<Record<string, string>>;
  readonly mode?: MtlsMode;
  /** Workload port (the app's port, not the service port) → mode. */
  readonly ports?: Readonly<Record<string, MtlsMode>>;
}

export type UpstreamProtocol = 'http1' | 'http2' | 'downstream';

export interface EndpointModel {
  /** IP address (static) or a host name to resolve (dns). */
  readonly address: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Relative weight for load balancing, >= 1. */
  readonly weight: number;
  /**
   * `istio`: a sidecar accepts mesh mTLS in front of this endpoint (the control
   * plane saw one subscribe from this address, or the endpoint carries the
   * label `security.meshlet.io/tlsMode: istio`). Absent: plaintext unless a
   * DestinationRule says otherwise.
   */
  readonly tlsMode?: 'istio';
}

/** Endpoint labels that mark an endpoint as running a sidecar (Meshlet's and Istio's spelling). */
export const TLS_MODE_LABELS = ['security.meshlet.io/tlsMode', 'security.istio.io/tlsMode'] as const;

/** True when the endpoint accepts mesh mTLS (field set, or labelled). */
export function endpointRunsSidecar(e: EndpointModel): boolean {
  return e.tlsMode === 'istio' || e.labels[TLS_MODE_LABELS[0]] === 'istio' || e.labels[TLS_MODE_LABELS[1]] === 'istio';
}

/** Two label maps with the same keys and values (an endpoint's identity across config pushes). */
export function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

export interface ClusterPolicy {
  readonly lb: LoadBalancerPolicy;
  readonly connectionPool?: ConnectionPoolPolicy;
  readonly outlierDetection?: OutlierDetectionPolicy;
  /** DestinationRule `trafficPolicy.retryBudget`; absent = Meshlet's default budget (20%, at least 3). */
  readonly retryBudget?: RetryBudgetPolicy;
}

/** Envoy's retry_budget: concurrent retries ≤ max(minRetryConcurrency, percent% of active requests). */
export interface RetryBudgetPolicy {
  readonly percent: number;
  readonly minRetryConcurrency: number;
}

export type LoadBalancerPolicy =
  | { readonly kind: 'round_robin' }
  | { readonly kind: 'least_request' }
  | { readonly kind: 'random' }
  | {
      readonly kind: 'ring_hash' | 'maglev';
      readonly hashKey: HashKey;
      /** ring_hash: minimum ring size (default 1024). maglev: table size, a prime (default 65537). */
      readonly tableSize: number;
    };

export type HashKey =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string; readonly path?: string; readonly ttlMs?: Millis }
  | { readonly kind: 'source_ip' }
  | { readonly kind: 'query'; readonly name: string };

export interface ConnectionPoolPolicy {
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: Millis;
  readonly maxPendingRequests?: number;
  readonly maxRequests?: number;
  readonly maxRequestsPerConnection?: number;
  readonly maxRetries?: number;
  readonly idleTimeoutMs?: Millis;
  /** HTTP/2 upstreams: streams per connection before another connection opens (also capped by the server's SETTINGS). */
  readonly maxConcurrentStreams?: number;
}

export interface OutlierDetectionPolicy {
  readonly consecutive5xxErrors: number; // 0 disables
  readonly consecutiveGatewayErrors: number; // 0 disables
  readonly intervalMs: Millis;
  readonly baseEjectionTimeMs: Millis;
  readonly maxEjectionPercent: number;
  readonly minHealthPercent: number;
}

// ---------------------------------------------------------------- routing

export interface VirtualHostModel {
  readonly name: string;
  /** Fully-qualified hosts this virtual host answers for (no port). `*` matches any. */
  readonly domains: readonly string[];
  readonly routes: readonly RouteModel[];
  readonly source: string;
  /** Namespaces that may see these routes (VirtualService `exportTo`, as on ServiceModel); absent = every namespace. */
  readonly exportTo?: readonly string[];
}

export type StringMatch =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'regex'; readonly value: string };

export interface RouteMatch {
  readonly uri?: StringMatch;
  readonly authority?: StringMatch;
  readonly method?: StringMatch;
  /** Header name lower-cased. */
  readonly headers?: Readonly<Record<string, StringMatch>>;
  /** Header must be absent (or not match, when a matcher is given). */
  readonly withoutHeaders?: Readonly<Record<string, StringMatch | { readonly kind: 'present' }>>;
  readonly queryParams?: Readonly<Record<string, StringMatch>>;
  readonly ignoreUriCase?: boolean;
  readonly port?: number;
  /**
   * Istio's per-proxy source conditions: the clause applies only on a sidecar
   * whose workload labels include all of these and whose namespace is this.
   * Evaluated once per snapshot build by the sidecar (it knows its own
   * labels and namespace), exactly where Istio's pilot evaluates them.
   */
  readonly sourceLabels?: Readonly<Record<string, string>>;
  readonly sourceNamespace?: string;
}

export interface HeaderOps {
  readonly set?: Readonly<Record<string, string>>;
  readonly add?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}

export interface WeightedDestination {
  /** Cluster name, or, when port is unknown, a cluster-name template resolved per request port. */
  readonly host: string;
  readonly subset?: string;
  readonly port?: number;
  readonly weight: number;
  readonly headers?: { readonly request?: HeaderOps; readonly response?: HeaderOps };
}

export type RouteAction =
  | { readonly kind: 'forward'; readonly destinations: readonly WeightedDestination[] }
  | { readonly kind: 'redirect'; readonly uri?: string; readonly authority?: string; readonly scheme?: string; readonly port?: number; readonly status: number }
  | { readonly kind: 'direct'; readonly status: number; readonly body?: string };

export interface RouteModel {
  /** Stable, bounded name used in metrics and logs: the Istio route name or `vs-name.index`. */
  readonly name: string;
  /** Empty = match everything. OR across entries, AND within one. */
  readonly match: readonly RouteMatch[];
  readonly action: RouteAction;
  readonly headers?: { readonly request?: HeaderOps; readonly response?: HeaderOps };
  readonly rewrite?: {
    readonly uri?: string;
    readonly authority?: string;
    /** Istio `uriRegexRewrite`: every match of the RE2 `match` in the path is replaced; `\\1` names a group. */
    readonly uriRegex?: { readonly match: string; readonly substitution: string };
  };
  readonly timeoutMs?: Millis;
  readonly retries?: RetryPolicy;
  readonly fault?: FaultPolicy;
  readonly mirrors?: readonly MirrorPolicy[];
  /**
   * Protocols an HTTP/1.1 `Upgrade:` request may switch to on this route
   * (lowercase tokens, like Envoy's per-route upgrade_configs); absent =
   * `websocket` only. Others are refused with 403. `h2c` is never allowed.
   */
  readonly upgrades?: readonly string[];
}

/** One VirtualService `tls:` route: SNI (and port) match → weighted destinations, TLS passed through untouched. */
export interface TlsRouteModel {
  /** `vs-name.tls.index`, bounded, for access logs. */
  readonly name: string;
  /** OR across match blocks flattened: any of these SNI hosts (exact or `*.suffix`). */
  readonly sniHosts: readonly string[];
  /** Destination port the match is limited to; 0 = any. */
  readonly port: number;
  readonly destinations: readonly WeightedDestination[];
  readonly source: string;
}

// ---------------------------------------------------------------- resilience (later issues)

export type RetryOn =
  | '5xx'
  | 'gateway-error'
  | 'connect-failure'
  | 'refused-stream'
  | 'reset'
  | 'retriable-4xx'
  | 'retriable-status-codes'
  | 'cancelled'
  | 'deadline-exceeded'
  | 'internal'
  | 'resource-exhausted'
  | 'unavailable';

export interface RetryPolicy {
  /** Retries after the first try (Istio `attempts`). 0 disables. */
  readonly attempts: number;
  readonly perTryTimeoutMs?: Millis;
  readonly retryOn: readonly RetryOn[];
  readonly retriableStatusCodes: readonly number[];
  /** Only retry non-idempotent methods when the request provably never reached the app. */
  readonly idempotentOnly5xx: boolean;
  /** True when the route said nothing and Meshlet's safe default applies. */
  readonly isDefault: boolean;
}

export interface Percent {
  /** 0..100 */
  readonly value: number;
}

/** gRPC status names (grpc/doc/statuscodes.md), in code order. */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export type GrpcStatusName = (typeof GRPC_STATUS_NAMES)[number];

export interface FaultPolicy {
  readonly delay?: { readonly fixedDelayMs: Millis; readonly percent: number };
  readonly abort?: { readonly httpStatus?: number; readonly grpcStatus?: GrpcStatusName; readonly percent: number };
  /** Honour x-envoy-fault-* request headers on this route. */
  readonly headerControlled?: boolean;
  readonly maxActiveFaults?: number;
  /** Absolute expiry (ms since epoch) after which the fault is dropped (experiment TTL). */
  readonly expiresAt?: number;
  /**
   * `server`: applied by the inbound sidecar of the destination's pods (those
   * whose labels include `serverLabels`), so the caller's retries, timeouts
   * and outlier detection see it as a real upstream failure. Absent: client
   * side, in the caller's sidecar (Istio's placement).
   */
  readonly placement?: 'server';
  readonly serverLabels?: Readonly<Record<string, string>>;
  /** Name of the `meshlet experiment` that put this fault here (overlay VirtualService). */
  readonly experiment?: string;
}

export interface MirrorPolicy {
  readonly host: string;
  readonly subset?: string;
  readonly port?: number;
  readonly percent: number;
  /** Append `-shadow` to the mirrored request's Host (Envoy/Istio default). */
  readonly shadowSuffix: boolean;
  readonly expiresAt?: number;
}

// ---------------------------------------------------------------- helpers that are pure data

/** Istio-style cluster name. */
export function clusterName(host: string, port: number, subset?: string): string {
  return `outbound|${port}|${subset ?? ''}|${host}`;
}

/** Faults put in place by `meshlet experiment` (overlays), with their host. */
export function experimentFaults(config: MeshConfig): { readonly experiment: string; readonly host: string; readonly expiresAt: number }[] {
  const out: { experiment: string; host: string; expiresAt: number }[] = [];
  for (const vh of config.virtualHosts) {
    for (const r of vh.routes) {
      const f = r.fault;
      if (f?.experiment === undefined || f.expiresAt === undefined) continue;
      if (!out.some((o) => o.experiment === f.experiment && o.host === vh.domains[0])) out.push({ experiment: f.experiment, host: vh.domains[0] ?? vh.name, expiresAt: f.expiresAt });
    }
  }
  return out;
}

export const DEFAULT_LB: LoadBalancerPolicy = { kind: 'least_request' };
export const CLUSTER_DOMAIN = 'svc.cluster.local';

// ---------------------------------------------------------------- validation issues

/**
 * One problem found in configuration. Every layer that validates (YAML load,
 * schema, translation, wire decode) reports all problems at once in this shape.
 */
export interface ConfigIssue {
  /** File the resource came from, when it came from a file. */
  readonly file?: string;
  /** `Kind/namespace/name`, e.g. `VirtualService/default/reviews`. */
  readonly resource: string;
  /** Dotted field path, e.g. `spec.http[0].route[1].weight`. */
  readonly path: string;
  readonly reason: string;
  /**
   * Absent or `error`: the config is refused. `warning`: accepted, but the
   * field has no effect (reported at load and by `meshlet analyze`). `info`:
   * nothing wrong, e.g. a document of another API group that was skipped.
   */
  readonly severity?: 'error' | 'warning' | 'info';
}

export function isError(i: ConfigIssue): boolean {
  return i.severity === undefined || i.severity === 'error';
}

export function formatIssue(i: ConfigIssue): string {
  const sev = i.severity === 'warning' || i.severity === 'info' ? `${i.severity}: ` : '';
  return `${sev}${i.file ? i.file + ': ' : ''}${i.resource}: ${i.path}: ${i.reason}`;
}
export * from './spiffe-id.js';
export * from './authorization.js';
