// proxy-status: per-sidecar sync state, as `istioctl proxy-status` shows it.
// Pure functions over plain rows, shared by the server (GetStatus) and the CLI.

export interface NodeStatusView {
  readonly nodeId: string;
  readonly workload: string;
  readonly namespace: string;
  readonly versionSent: string;
  readonly versionAcked: string;
  /** What the control plane would send this node now. */
  readonly versionCurrent: string;
  readonly lastNackVersion: string;
  readonly lastNackReason: string;
  readonly connectedSince: string;
  readonly lastPushAt: string;
  /** SPIFFE ID of the node's last issued certificate and its expiry ("" = none). */
  readonly identity?: string;
  readonly certExpiresAt?: string;
  /** Why the control plane could not send this node its config ('' or absent when it could). */
  readonly pushError?: string;
  /** Why the node's last subscription was refused (pod identity mismatch); '' or absent when it was not. */
  readonly refused?: string;
}

export type SyncState = 'SYNCED' | 'STALE' | 'NOT SENT' | `ERROR: ${string}` | `REFUSED: ${string}`;

export function syncState(n: NodeStatusView): SyncState {
  if (n.refused) return `REFUSED: ${n.refused}`;
  if (n.pushError) return `ERROR: ${n.pushError}`;
  if (n.versionCurrent !== '' && n.versionAcked === n.versionCurrent) return 'SYNCED';
  if (n.versionSent === '') return 'NOT SENT';
  return 'STALE';
}

const HEADERS = ['NODE ID', 'WORKLOAD', 'NAMESPACE', 'VERSION SENT', 'VERSION ACKED', 'SYNC', 'IDENTITY', 'CERT EXPIRES', 'LAST NACK'] as const;

/** A fixed-width text table, one line per node, sorted by node id. */
export function formatStatusTable(nodes: readonly NodeStatusView[]): string {
  const rows: string[][] = [HEADERS.slice()];
  const sorted = nodes.slice().sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  for (const n of sorted) {
    const nack = n.lastNackReason ? `${n.lastNackVersion}: ${n.lastNackReason}` : '-';
    rows.push([n.nodeId, n.workload || '-', n.namespace || '-', n.versionSent || '-', n.versionAcked || '-', syncState(n), n.identity || '-', n.certExpiresAt || '-', nack]);
  }
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}
