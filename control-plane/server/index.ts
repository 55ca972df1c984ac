export { DiscoveryServer, type DiscoveryServerOptions, type ExperimentControl, type TlsFiles } from './discovery-server.js';
export { applyExperiment, removeExperiment, type ExperimentReply, fetchNodeConfig, fetchStatus, type AdminCallOptions, type NodeConfigReply, type StatusReply } from './admin-client.js';
export { PushDebouncer } from './push-debouncer.js';
