// Public surface of the Istio API module: shapes, schemas and loading.
export { parseDuration } from './duration.js';
export { loadIstioPath } from './load-istio-path.js';
export { parseIstioObject, parseIstioYaml, type ParseResult } from './parse-istio-yaml.js';
export {
  DEFAULT_NAMESPACE,
  ISTIO_GROUP,
  ISTIO_VERSIONS,
  resourceRef,
  type IstioAuthorizationPolicy,
  type IstioDestinationRule,
  type IstioKind,
  type IstioMetadata,
  type IstioResource,
  type IstioServiceEntry,
  type IstioSidecar,
  type IstioPeerAuthentication,
  type IstioVirtualService,
} from './istio-resource.js';
export * from './istio-common-schema.js';
export * from './service-entry-schema.js';
export * from './destination-rule-schema.js';
export * from './virtual-service-schema.js';
export * from './sidecar-schema.js';
export * from './peer-authentication-schema.js';
export * from './authorization-policy-schema.js';
export { FIELD_SUPPORT, findUnappliedFields, type FieldSupport } from './field-support.js';
export { KIND_SCHEMAS, UNSUPPORTED_KINDS } from './istio-kinds.js';
