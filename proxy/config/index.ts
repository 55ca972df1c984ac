// The config kernel's public surface, shared by the proxy's standalone mode
// and the control plane: load Istio YAML, translate to the Meshlet model,
// validate a model. Pure except for file reading in the loaders; no network,
// no timers, no DNS (resolution of `dns` clusters happens elsewhere).

import { analyzePaths } from './analyze.js';
import type { TranslateResult } from './translate/index.js';

export * from './model/index.js';
export {
  loadIstioPath,
  parseIstioObject,
  parseIstioYaml,
  FIELD_SUPPORT,
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
export { defaultVirtualHost, visibleTo, translate, normaliseHost, contentVersion, canonicalJson, SAFE_DEFAULT_RETRIES, type TranslateResult } from './translate/index.js';
export { analyzePaths, type AnalyzeResult } from './analyze.js';
export { closestName, didYouMean } from './validate/did-you-mean.js';
export { DEFAULT_MAX_REGEX_PROGRAM_SIZE, setRegexLimits } from './validate/re2-pattern.js';
export { validateMeshConfig, MeshConfigSchema, type ValidateResult } from './validate/index.js';

/**
 * Load + translate. Load issues and translation issues are reported together,
 * so one run shows every mistake in the directory.
 */
export async function loadMeshConfig(path: string, now?: number): Promise<TranslateResult> {
  const r = await analyzePaths([path], now);
  return r.config !== undefined
    ? { ok: true, config: r.config, warnings: [...r.warnings] }
    : { ok: false, issues: [...r.errors], warnings: [...r.warnings] };
}
