import { describe, expect, it } from 'vitest';
import type { ClusterModel } from '../config/model/index.js';
import { ClusterRuntime } from './cluster.js';

const model = (idleTimeoutMs?: number): ClusterModel => ({
  name: 'outbound|80||svc.default.svc.cluster.local',
  host: 'svc.default.svc.cluster.local',
  port: 80,
  discovery: 'static',
  endpoints: [{ address: '127.0.0.1', port: 1, labels: {}, weight: 1 }],
  policy: { lb: { kind: 'round_robin' }, ...(idleTimeoutMs !== undefined ? { connectionPool: { idleTimeoutMs } } : {}) },
});

describe('ClusterRuntime pool settings', () => {
  it('applies DestinationRule idleTimeout as written (it was silently capped at 4 s)', () => {
    expect(new ClusterRuntime(model(3_600_000)).poolSettings().idleTimeoutMs).toBe(3_600_000);
    expect(new ClusterRuntime(model(250)).poolSettings().idleTimeoutMs).toBe(250);
    expect(new ClusterRuntime(model()).poolSettings().idleTimeoutMs).toBe(4_000);
  });
});
