// Public surface of model validation with zod (translate output, the control
// plane's store, --config mode). Importing this index loads zod. The
// sidecar's control-plane path imports validate-snapshot.ts and
// validate-endpoints.ts directly instead (.dependency-cruiser.cjs); they are
// not re-exported here, so a zod user does not also load the generated
// validator (~2.7 MiB once it has run).
export { validateMeshConfig, type ValidateResult } from './validate-mesh-config.js';
export { MeshConfigSchema } from './mesh-config-schema.js';
export { formatIssuePath, joinIssuePath } from './issue-path.js';
