// Public surface of the Istio → Meshlet translation.
export { defaultVirtualHost, translate, type TranslateResult } from './translate.js';
export { resolveExportTo, visibleTo } from './export-to.js';
export { normaliseHost } from './host-name.js';
export { canonicalJson, contentVersion } from './config-version.js';
export { SAFE_DEFAULT_RETRIES } from './route-policies.js';
export {
  ANNOTATION_EXPERIMENT_TTL,
  ANNOTATION_FAULT_HEADER_CONTROL,
  ANNOTATION_MAX_ACTIVE_FAULTS,
  ANNOTATION_MIRROR_HOST_SUFFIX,
} from './meshlet-annotations.js';
export {
  ANNOTATION_EXPERIMENT,
  ANNOTATION_EXPERIMENT_EXPIRES_AT,
  ANNOTATION_FAULT_LABELS,
  ANNOTATION_FAULT_PLACEMENT,
  ANNOTATION_FAULT_SUBSET,
} from './experiment-overlay.js';
