export { DiscoveryServer, type DiscoveryServerOptions, type TlsFiles } from './discovery-server.js';
export { fetchNodeConfig, fetchStatus, type AdminCallOptions, type NodeConfigReply, type StatusReply } from './admin-client.js';
export { PushDebouncer } from './push-debouncer.js';
