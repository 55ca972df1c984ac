import { describe, expect, it } from 'vitest';
import { formatStatusTable, syncState, type NodeStatusView } from './proxy-status.js';

const base: NodeStatusView = {
  nodeId: 'a', workload: 'w', namespace: 'ns', versionSent: '', versionAcked: '', versionCurrent: '',
  lastNackVersion: '', lastNackReason: '', connectedSince: '', lastPushAt: '',
};

describe('syncState', () => {
  const cases: { name: string; row: Partial<NodeStatusView>; want: string }[] = [
    { name: 'no config at all', row: {}, want: 'NOT SENT' },
    { name: 'acked current', row: { versionSent: 'v1', versionAcked: 'v1', versionCurrent: 'v1' }, want: 'SYNCED' },
    { name: 'resubscribed with current version, nothing sent', row: { versionSent: 'v1', versionAcked: 'v1', versionCurrent: 'v1' }, want: 'SYNCED' },
    { name: 'sent, not acked yet', row: { versionSent: 'v2', versionAcked: 'v1', versionCurrent: 'v2' }, want: 'STALE' },
    { name: 'nacked', row: { versionSent: 'v2', versionAcked: 'v1', versionCurrent: 'v2', lastNackReason: 'bad' }, want: 'STALE' },
    { name: 'config exists, not yet sent', row: { versionCurrent: 'v1' }, want: 'NOT SENT' },
  ];
  for (const c of cases) it(c.name, () => expect(syncState({ ...base, ...c.row })).toBe(c.want));
});

describe('formatStatusTable', () => {
  it('prints a header and one aligned row per node, sorted', () => {
    const out = formatStatusTable([
      { ...base, nodeId: 'zeta', versionSent: 'v1', versionAcked: 'v1', versionCurrent: 'v1', identity: 'spiffe://cluster.local/ns/ns/sa/zeta', certExpiresAt: '2030-01-01T00:00:00.000Z' },
      { ...base, nodeId: 'alpha', versionSent: 'v2', versionAcked: 'v1', versionCurrent: 'v2', lastNackVersion: 'v2', lastNackReason: 'boom' },
    ]).split('\n');
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^NODE ID\s+WORKLOAD\s+NAMESPACE\s+VERSION SENT\s+VERSION ACKED\s+SYNC\s+IDENTITY\s+CERT EXPIRES\s+LAST NACK$/);
    expect(out[1]).toMatch(/^alpha\s.*STALE\s+-\s+-\s+v2: boom$/);
    expect(out[2]).toMatch(/^zeta\s.*SYNCED\s+spiffe:\/\/cluster.local\/ns\/ns\/sa\/zeta\s+2030-01-01T00:00:00.000Z\s+-$/);
    expect(out[0]?.indexOf('SYNC')).toBe(out[2]?.indexOf('SYNCED'));
  });
});
