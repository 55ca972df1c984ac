// Istio visibility (`exportTo` on ServiceEntry and VirtualService, and the
// `networking.istio.io/exportTo` annotation on Kubernetes Services): which
// namespaces' sidecars may see a resource. `.` is the resource's own
// namespace, `*` every namespace (Istio's default), `~` none. The result is
// the model's `exportTo`: a sorted namespace list, or undefined for "all".
import type { ConfigIssue } from '../model/index.js';
import type { IstioResource } from '../istio/index.js';
import { issueFor } from './issue-for.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Resolves a written `exportTo`; issues go to `issues` (path `spec.exportTo[i]`). */
export function resolveExportTo(r: IstioResource, written: readonly string[] | undefined, issues: ConfigIssue[]): readonly string[] | undefined {
  if (written === undefined || written.length === 0) return undefined;
  const out = new Set<string>();
  let all = false;
  written.forEach((w, i) => {
    if (w === '*') all = true;
    else if (w === '.') out.add(r.metadata.namespace);
    else if (w === '~') {
      if (written.length > 1) issues.push(issueFor(r, `spec.exportTo[${i}]`, '"~" (visible nowhere) cannot be combined with other entries'));
    } else if (DNS_LABEL.test(w)) out.add(w);
    else issues.push(issueFor(r, `spec.exportTo[${i}]`, `"${w}" is not ".", "*", "~" or a namespace name`));
  });
  return all ? undefined : [...out].sort();
}

/** Whether a sidecar in `namespace` sees something exported to `exportTo`. */
export function visibleTo(exportTo: readonly string[] | undefined, namespace: string): boolean {
  return exportTo === undefined || exportTo.includes(namespace);
}
