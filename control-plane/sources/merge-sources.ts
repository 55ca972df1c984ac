// Files + Kubernetes → one translated config, without NACKs: a resource the
// translation refuses is left out and reported, and the rest still applies
// (a broken VirtualService in one namespace must not freeze every other one).
// Clashes: a file resource wins over a Kubernetes object of the same
// Kind/namespace/name, and any declared ServiceEntry wins over the entry
// synthesized from a Kubernetes Service with the same host; each with a warning.
import { normaliseHost, resourceRef, translate, type IstioResource } from '../../proxy/config/index.js';
import type { ConfigIssue, MeshConfig } from '../../proxy/config/model/index.js';
import { SYNTHETIC_PREFIX } from './kubernetes/service-entries-from-kube.js';

export interface MergeResult {
  /** Undefined only when some issue could not be pinned to a resource to leave out. */
  readonly config: MeshConfig | undefined;
  /** Everything left out (and why), plus clash warnings. */
  readonly issues: ConfigIssue[];
}

const isSynthetic = (r: IstioResource): boolean => r.kind === 'ServiceEntry' && r.metadata.name.startsWith(SYNTHETIC_PREFIX);

export function mergeSources(files: readonly IstioResource[], kubernetes: readonly IstioResource[], now: number = Date.now()): MergeResult {
  const issues: ConfigIssue[] = [];
  const fileByRef = new Map(files.map((r) => [resourceRef(r), r]));
  const kept: IstioResource[] = [...files];
  for (const r of kubernetes) {
    const file = fileByRef.get(resourceRef(r));
    if (file) issues.push({ resource: resourceRef(r), path: 'metadata.name', reason: `warning: also defined in file ${file.file ?? '?'}; the file wins` });
    else kept.push(r);
  }
  const declared = new Map<string, IstioResource>();
  for (const r of kept) {
    if (r.kind !== 'ServiceEntry' || isSynthetic(r)) continue;
    for (const h of r.spec.hosts) declared.set(normaliseHost(h, r.metadata.namespace), r);
  }
  let resources = kept.filter((r) => {
    if (!isSynthetic(r) || r.kind !== 'ServiceEntry') return true;
    const host = r.spec.hosts[0] ?? '';
    const owner = declared.get(host);
    if (owner === undefined) return true;
    issues.push({ resource: `Service/${r.metadata.namespace}/${r.metadata.name.slice(SYNTHETIC_PREFIX.length)}`, path: 'metadata.name', reason: `warning: host ${host} is declared by ${resourceRef(owner)}, which wins` });
    return false;
  });
  // Each round leaves out at least one resource, so this ends.
  for (;;) {
    const result = translate(resources, now);
    if (result.ok) return { config: result.config, issues: [...issues, ...(result.warnings ?? [])] };
    const bad = new Set(result.issues.map((i) => i.resource));
    const next = resources.filter((r) => !bad.has(resourceRef(r)));
    issues.push(...result.issues.map((i) => ({ ...i, reason: `${i.reason} (left out; the rest applies)` })));
    if (next.length === resources.length) return { config: undefined, issues };
    resources = next;
  }
}
