// PeerAuthentication → PeerAuthenticationModel. The translation only
// classifies each policy (mesh / namespace / workload) and resolves UNSET;
// which policy applies to a sidecar is decided by the sidecar itself
// (resolvePeerAuthentication), since only it knows its labels, as Istio's
// pilot decides per proxy.
//
// Istio's rules kept here: the mesh-wide policy lives in the root namespace
// (`istio-system`, Istio's default rootNamespace) without a selector; at most
// one mesh-wide and one namespace-wide policy may exist per scope (Istio
// takes the oldest; we have no creation time, so two is refused instead of
// guessed); portLevelMtls needs a selector (checked by the schema).
import type { ConfigIssue, MtlsMode, PeerAuthenticationModel } from '../model/index.js';
import { resourceRef, type IstioPeerAuthentication } from '../istio/index.js';
import { issueFor } from './issue-for.js';

/** Istio's default meshConfig.rootNamespace: a selector-less policy here is mesh-wide. */
export const MESH_ROOT_NAMESPACE = 'istio-system';

function modeOf(m: string | undefined): MtlsMode | undefined {
  return m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE' ? m : undefined;
}

export function toPeerAuthentications(list: readonly IstioPeerAuthentication[], issues: ConfigIssue[]): PeerAuthenticationModel[] {
  const out: PeerAuthenticationModel[] = [];
  const wide = new Map<string, IstioPeerAuthentication>();
  for (const pa of list) {
    const selector = pa.spec.selector?.matchLabels ?? {};
    const hasSelector = Object.keys(selector).length > 0;
    const scope = hasSelector ? 'workload' : pa.metadata.namespace === MESH_ROOT_NAMESPACE ? 'mesh' : 'namespace';
    if (!hasSelector) {
      const other = wide.get(pa.metadata.namespace);
      if (other !== undefined) {
        issues.push(issueFor(pa, 'spec', `namespace ${pa.metadata.namespace} already has a ${scope}-wide PeerAuthentication (${resourceRef(other)}); Istio would pick the older one, Meshlet refuses to guess`));
        continue;
      }
      wide.set(pa.metadata.namespace, pa);
    }
    const mode = modeOf(pa.spec.mtls?.mode);
    let ports: Record<string, MtlsMode> | undefined;
    for (const [port, m] of Object.entries(pa.spec.portLevelMtls ?? {})) {
      const pm = modeOf(m.mode);
      // A port-level UNSET inherits the workload's mode: the same as leaving the port out.
      if (pm !== undefined) (ports ??= {})[String(Number(port))] = pm;
    }
    out.push({
      source: resourceRef(pa),
      namespace: pa.metadata.namespace,
      scope,
      ...(hasSelector ? { selector } : {}),
      ...(mode !== undefined ? { mode } : {}),
      ...(ports !== undefined ? { ports } : {}),
    });
  }
  return out;
}
