export {
  buildNodeSnapshot,
  SnapshotBuilder,
  type BuildOptions,
  type NodeIdentity,
  type NodeSnapshot,
  type ResourceKind,
  type SnapshotResource,
} from './node-snapshot.js';
