// Public surface of model validation (used at every boundary: translate
// output, wire decode in the proxy). Importing this index loads zod: the
// sidecar's control-plane path imports validate-snapshot.ts and
// validate-endpoints.ts directly instead (.dependency-cruiser.cjs).
export { validateMeshConfig, type ValidateResult } from './validate-mesh-config.js';
export { MeshConfigSchema } from './mesh-config-schema.js';
export { formatIssuePath, joinIssuePath } from './issue-path.js';
export { checkClusterEndpoints, validateEndpoints, type EndpointsResult } from './validate-endpoints.js';
export { validateSnapshot } from './validate-snapshot.js';
