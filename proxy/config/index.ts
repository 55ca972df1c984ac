// The config kernel's public surface, shared by the proxy's standalone mode
// and the control plane: load Istio YAML, translate to the Meshlet model,
// validate a model. Pure except for file reading in the loaders; no network,
// no timers, no DNS (resolution of `dns` clusters happens elsewhere).

import type { ConfigIssue } from './model/index.js';
import { loadIstioPath } from './istio/index.js';
import { translate, type TranslateResult } from './translate/index.js';

export * from './model/index.js';
export {
  loadIstioPath,
  parseIstioObject,
  parseIstioYaml,
  resourceRef,
  type IstioDestinationRule,
  type IstioKind,
  type IstioResource,
  type IstioServiceEntry,
  type IstioVirtualService,
  type ParseResult,
} from './istio/index.js';
export {
  ANNOTATION_EXPERIMENT,
  ANNOTATION_EXPERIMENT_EXPIRES_AT,
  ANNOTATION_FAULT_LABELS,
  ANNOTATION_FAULT_PLACEMENT,
  ANNOTATION_FAULT_SUBSET,
} from './translate/index.js';
export { translate, normaliseHost, contentVersion, canonicalJson, SAFE_DEFAULT_RETRIES, type TranslateResult } from './translate/index.js';
export { validateMeshConfig, MeshConfigSchema, type ValidateResult } from './validate/index.js';

/**
 * Load + translate. Load issues and translation issues are reported together,
 * so one run shows every mistake in the directory.
 */
export async function loadMeshConfig(path: string, now?: number): Promise<TranslateResult> {
  const loaded = await loadIstioPath(path);
  const result = translate(loaded.resources, now);
  if (loaded.issues.length === 0) return result;
  const issues: ConfigIssue[] = [...loaded.issues, ...(result.ok ? [] : result.issues)];
  return { ok: false, issues };
}
