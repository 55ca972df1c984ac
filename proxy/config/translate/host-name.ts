// Kubernetes-style short names, as Istio interprets them in VirtualService
// and DestinationRule hosts: expanded against the namespace of the resource
// that wrote them, not the namespace of the service. Meshlet applies the same
// rule to ServiceEntry hosts so that one service has exactly one spelling.

import { CLUSTER_DOMAIN } from '../model/index.js';

/**
 * `reviews` in namespace `ns` → `reviews.ns.svc.cluster.local`;
 * `reviews.other` → `reviews.other.svc.cluster.local`;
 * `reviews.other.svc` → `reviews.other.svc.cluster.local`;
 * anything else with dots, wildcards and `*` stay as written (lower-cased).
 */
export function normaliseHost(host: string, namespace: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('*')) return h;
  const dots = countDots(h);
  if (dots === 0) return `${h}.${namespace}.${CLUSTER_DOMAIN}`;
  if (dots === 1) return `${h}.${CLUSTER_DOMAIN}`;
  if (dots === 2 && h.endsWith('.svc')) return `${h}.cluster.local`;
  return h;
}

function countDots(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 46) n++;
  return n;
}
