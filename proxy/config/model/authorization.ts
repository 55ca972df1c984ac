// Authorization policies as a sidecar enforces them on its inbound side
// (Istio's AuthorizationPolicy, after translation). Every policy of the mesh
// travels to every sidecar; each sidecar keeps the ones that select it (its
// namespace, or the mesh root namespace, and its labels) when it compiles a
// snapshot, exactly where Istio's pilot would have scoped them.
//
// String values keep Istio's match syntax, which the layer compiles once:
// `abc` exact, `abc*` prefix, `*abc` suffix, `*` presence (non-empty).

/** Policies in this namespace without a selector apply to every workload of the mesh (Istio's default root namespace). */
export const MESH_ROOT_NAMESPACE = 'istio-system';

export type AuthzAction = 'ALLOW' | 'DENY' | 'AUDIT';

export interface AuthorizationPolicyModel {
  /** `namespace/name`: metric label, log field. */
  readonly name: string;
  readonly namespace: string;
  /** Workload labels the policy selects (all must match); absent = every workload in scope. */
  readonly selector?: Readonly<Record<string, string>>;
  readonly action: AuthzAction;
  /** OR across rules. Empty: never matches (an ALLOW policy with no rules denies everything). */
  readonly rules: readonly AuthzRuleModel[];
  /** `AuthorizationPolicy/ns/name`. */
  readonly source: string;
}

/** A rule matches when one of `from`, one of `to` and every `when` match; an absent list matches anything. */
export interface AuthzRuleModel {
  readonly from?: readonly AuthzSourceModel[];
  readonly to?: readonly AuthzOperationModel[];
  readonly when?: readonly AuthzConditionModel[];
}

/** Fields are ANDed; each list is OR over its values; `not*` lists must not match. */
export interface AuthzSourceModel {
  /** `td/ns/N/sa/S` of the verified peer certificate. */
  readonly principals?: readonly string[];
  readonly notPrincipals?: readonly string[];
  readonly namespaces?: readonly string[];
  readonly notNamespaces?: readonly string[];
  readonly trustDomains?: readonly string[];
  readonly notTrustDomains?: readonly string[];
  /** IPs or CIDRs of the connection's peer address. */
  readonly ipBlocks?: readonly string[];
  readonly notIpBlocks?: readonly string[];
  /** Istio's remote.ip: the peer address too (Meshlet trusts no X-Forwarded-For, which a caller can forge). */
  readonly remoteIpBlocks?: readonly string[];
  readonly notRemoteIpBlocks?: readonly string[];
}

export interface AuthzOperationModel {
  readonly hosts?: readonly string[];
  readonly notHosts?: readonly string[];
  readonly ports?: readonly number[];
  readonly notPorts?: readonly number[];
  readonly methods?: readonly string[];
  readonly notMethods?: readonly string[];
  readonly paths?: readonly string[];
  readonly notPaths?: readonly string[];
}

export type AuthzConditionKey =
  | 'request.headers'
  | 'source.ip'
  | 'remote.ip'
  | 'source.namespace'
  | 'source.principal'
  | 'destination.ip'
  | 'destination.port'
  | 'connection.sni';

export interface AuthzConditionModel {
  readonly key: AuthzConditionKey;
  /** `request.headers[name]`: the header name, lower-cased. */
  readonly header?: string;
  readonly values?: readonly string[];
  readonly notValues?: readonly string[];
}
