// The default ConfigLoader: Istio YAML files → shared Istio module → model.
// All-or-nothing: any issue (bad YAML, bad schema, bad translation) rejects the
// whole load, so the control plane keeps serving its last good state.
import { loadMeshConfig } from '../../proxy/config/index.js';
import type { ConfigIssue, MeshConfig } from '../../proxy/config/model/index.js';

/** `warnings`: fields accepted but not applied, skipped documents (never a reason to refuse). */
export type LoadResult =
  | { readonly ok: true; readonly config: MeshConfig; readonly warnings?: readonly ConfigIssue[] }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly warnings?: readonly ConfigIssue[] };

export type ConfigLoader = (dir: string) => Promise<LoadResult>;

// loadMeshConfig runs the same checks as `meshlet analyze` and a sidecar
// (schemas, translation, model validation), so nothing a sidecar would refuse
// is ever pushed.
export const loadIstioDir: ConfigLoader = (dir) => loadMeshConfig(dir);
