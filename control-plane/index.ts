// Public surface of the control plane.
export { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from './main.js';
export { applyExperiment, removeExperiment, type ExperimentReply, fetchNodeConfig, fetchStatus, type NodeConfigReply, type StatusReply } from './server/index.js';
export { formatStatusTable, syncState, type NodeStatusView, type SyncState } from './status/index.js';
export { buildNodeSnapshot, type NodeSnapshot } from './build/index.js';
export type { ConfigLoader, LoadResult } from './sources/index.js';
