// Workload identities as SPIFFE IDs in Istio's form:
// spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>. Shared by the
// control plane (which signs them into certificates) and the proxy (which reads
// them back from verified peer certificates). Pure string functions.

export interface SpiffeIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

// DNS-label-like segments: what Kubernetes allows for namespaces and service accounts.
const SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function isValidIdentitySegment(s: string): boolean {
  return s.length > 0 && s.length <= 253 && SEGMENT.test(s);
}

export function formatSpiffeId(id: SpiffeIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The identity in a `spiffe://td/ns/N/sa/S` URI, or undefined for anything else. */
export function parseSpiffeId(uri: string): SpiffeIdentity | undefined {
  if (!uri.startsWith('spiffe://')) return undefined;
  const parts = uri.slice('spiffe://'.length).split('/');
  if (parts.length !== 5 || parts[1] !== 'ns' || parts[3] !== 'sa') return undefined;
  const [trustDomain, , namespace, , serviceAccount] = parts as [string, string, string, string, string];
  if (!isValidIdentitySegment(trustDomain) || !isValidIdentitySegment(namespace) || !isValidIdentitySegment(serviceAccount)) return undefined;
  return { trustDomain, namespace, serviceAccount };
}
