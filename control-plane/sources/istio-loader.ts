// The default ConfigLoader: Istio YAML files → shared Istio module → model.
// All-or-nothing: any issue (bad YAML, bad schema, bad translation) rejects the
// whole load, so the control plane keeps serving its last good state.
import { loadMeshConfig } from '../../proxy/config/index.js';
import type { ConfigIssue, MeshConfig } from '../../proxy/config/model/index.js';

export type LoadResult = { readonly ok: true; readonly config: MeshConfig } | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export type ConfigLoader = (dir: string) => Promise<LoadResult>;

// loadMeshConfig reports load and translation issues together, so one reload shows every mistake.
export const loadIstioDir: ConfigLoader = (dir) => loadMeshConfig(dir);
