export { formatStatusTable, syncState, type NodeStatusView, type SyncState } from './proxy-status.js';
