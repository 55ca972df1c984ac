export {
  buildNodeSnapshot,
  SnapshotBuilder,
  type BuildOptions,
  type NodeIdentity,
  type NodeSnapshot,
  type ResourceKind,
  type SnapshotResource,
} from './node-snapshot.js';
export { deltaBytes, endpointDelta, type EndpointDelta } from './endpoint-delta.js';
export { isScoped, scopeConfig, type ScopedConfig } from './scope-config.js';
