// The identity check of a Kubernetes sidecar's subscription: what it says it
// is (pod name, namespace, IP, service account, labels, from the downward
// API) against the Pod object in the informer cache. A sidecar that could
// claim another pod's namespace or labels would receive that pod's scoped
// config and source-label routes. Pure: the server turns the verdict into a
// gRPC status and a `meshlet status` row.
import type { V1Pod } from '@kubernetes/client-node';

export interface PodClaim {
  readonly podName: string;
  readonly namespace: string;
  readonly podIp: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** `retry`: the Pod may just not be in the cache yet (or has no IP yet); `mismatch`: it contradicts the claim. */
export type PodVerdict = { readonly ok: true } | { readonly ok: false; readonly kind: 'retry' | 'mismatch'; readonly reason: string };

export function checkPodIdentity(claim: PodClaim, pod: V1Pod | undefined): PodVerdict {
  const ref = `pod ${claim.namespace}/${claim.podName}`;
  if (pod === undefined) return { ok: false, kind: 'retry', reason: `${ref} is not known to the control plane (not created, deleted, or not yet seen)` };
  const ips = [...new Set([pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)])].filter((ip): ip is string => typeof ip === 'string' && ip !== '');
  if (ips.length === 0) return { ok: false, kind: 'retry', reason: `${ref} has no IP yet` };
  if (!ips.includes(claim.podIp)) return { ok: false, kind: 'mismatch', reason: `${ref} has IP ${ips.join(', ')}, not ${claim.podIp || '(none sent)'}` };
  const sa = pod.spec?.serviceAccountName || 'default';
  if (claim.serviceAccount !== sa) return { ok: false, kind: 'mismatch', reason: `${ref} runs as service account ${sa}, not ${claim.serviceAccount || '(none sent)'}` };
  const labels = pod.metadata?.labels ?? {};
  const wrong = Object.entries(claim.labels).filter(([k, v]) => labels[k] !== v);
  if (wrong.length > 0) {
    const [k, v] = wrong[0]!;
    return { ok: false, kind: 'mismatch', reason: `${ref} does not have label ${k}=${v}${labels[k] !== undefined ? ` (it has ${k}=${labels[k]})` : ''}` };
  }
  return { ok: true };
}
