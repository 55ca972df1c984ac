export { compileSnapshot, WEBSOCKET_ONLY, type Snapshot, type CompiledRoute, type CompiledDestination, type CompiledVirtualHost, type CompileOptions } from './compile.js';
export { SnapshotHolder } from './holder.js';
