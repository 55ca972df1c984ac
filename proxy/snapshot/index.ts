export { compileSnapshot, WEBSOCKET_ONLY, type Snapshot, type CompiledRoute, type CompiledDestination, type CompiledVirtualHost, type CompileOptions } from './compile.js';
export { SnapshotHolder } from './holder.js';
export { L4Index, declaredProtocolOf, type L4Service, type CompiledTlsRoute } from './l4-index.js';
export { resolvePeerAuthentication, DEFAULT_PEER_AUTHENTICATION, type EffectivePeerAuthentication } from './peer-authentication.js';
