// Which PeerAuthentication applies to this sidecar, resolved once per
// snapshot the way Istio's pilot resolves it per proxy: the workload policy
// whose selector matches our labels, over the namespace-wide policy of our
// namespace, over the mesh-wide policy; a level whose mode is UNSET (absent)
// inherits from the wider one; PERMISSIVE when nothing says otherwise.
// Port-level modes come from the workload policy only (Istio's rule), and an
// UNSET port inherits the workload's resolved mode. When several workload
// policies match, Istio takes the oldest; we have no creation time, so the
// first by name wins (reported on /config_dump as `source`).
import type { MtlsMode, PeerAuthenticationModel } from '../config/model/index.js';

export interface EffectivePeerAuthentication {
  readonly mode: MtlsMode;
  /** Workload port → mode, where a port-level setting exists. */
  readonly ports: ReadonlyMap<number, MtlsMode>;
  /** The policies that decided, narrowest first (for debugging). */
  readonly sources: readonly string[];
}

export const DEFAULT_PEER_AUTHENTICATION: EffectivePeerAuthentication = Object.freeze({ mode: 'PERMISSIVE', ports: new Map(), sources: [] });

function matches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

export function resolvePeerAuthentication(
  list: readonly PeerAuthenticationModel[] | undefined,
  namespace: string,
  labels: Readonly<Record<string, string>>,
): EffectivePeerAuthentication {
  if (list === undefined || list.length === 0) return DEFAULT_PEER_AUTHENTICATION;
  const mesh = list.find((p) => p.scope === 'mesh');
  const ns = list.find((p) => p.scope === 'namespace' && p.namespace === namespace);
  const workload = list
    .filter((p) => p.scope === 'workload' && p.namespace === namespace && matches(p.selector ?? {}, labels))
    .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))[0];
  const mode = workload?.mode ?? ns?.mode ?? mesh?.mode ?? 'PERMISSIVE';
  const ports = new Map<number, MtlsMode>();
  for (const [p, m] of Object.entries(workload?.ports ?? {})) ports.set(Number(p), m);
  const sources = [workload, ns, mesh].filter((p): p is PeerAuthenticationModel => p !== undefined).map((p) => p.source);
  return { mode, ports, sources };
}
