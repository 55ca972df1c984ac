// Experiment overlays pushed to a real control plane over gRPC: applied as a
// new generation with a log line, removable, refused when invalid, and
// expiring by themselves (new generation + "expired (TTL)" log line) when the
// runner never comes back.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyExperiment, removeExperiment, startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import { until } from '../support/meshlet-process.js';
import { SERVICES } from './control-plane-fixtures.js';

const overlay = (name: string, host = 'reviews'): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${name}
  annotations: { meshlet.io/experiment: ${name}, meshlet.io/fault-placement: server, meshlet.io/fault-labels: "version=v2" }
spec:
  hosts: [${host}]
  http: [{ fault: { abort: { httpStatus: 503, percentage: { value: 20 } } }, route: [{ destination: { host: ${host} } }] }]
`;

let cp: RunningControlPlane | undefined;
let dir: string | undefined;
afterEach(async () => {
  await cp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  cp = undefined;
});

async function start(): Promise<{ cp: RunningControlPlane; target: string; logs: string[] }> {
  dir = await mkdtemp(join(tmpdir(), 'meshlet-exp-cp-'));
  await writeFile(join(dir, 'services.yaml'), SERVICES);
  const logs: string[] = [];
  cp = await startControlPlane({ configDir: dir, grpcPort: 0, grpcHost: '127.0.0.1', security: { insecure: true }, metricsPort: -1, rescanMs: 0, log: (_l, m) => void logs.push(m) });
  return { cp, target: `127.0.0.1:${cp.port}`, logs };
}

const faultOf = (cp: RunningControlPlane): unknown => cp.store.current()?.virtualHosts.flatMap((vh) => vh.routes).find((r) => r.fault !== undefined)?.fault;

describe('control plane experiment overlays', () => {
  it('applies, then removes: each a new generation and a log line', async () => {
    const { cp, target, logs } = await start();
    const g0 = cp.store.generation();
    const r = await applyExperiment(target, { name: 'e1', virtualServiceYaml: overlay('e1'), ttlMs: 60_000 });
    expect(r.generation).toBeGreaterThan(g0);
    expect(r.expiresAtMs).toBeGreaterThan(Date.now());
    expect(faultOf(cp)).toMatchObject({ placement: 'server', serverLabels: { version: 'v2' }, experiment: 'e1', abort: { httpStatus: 503, percent: 20 } });
    expect(logs.some((l) => /experiment e1: fault on reviews\S* applied/.test(l))).toBe(true);
    const rm1 = await removeExperiment(target, 'e1');
    expect(rm1.removed).toBe(true);
    expect(rm1.generation).toBeGreaterThan(r.generation);
    expect(faultOf(cp)).toBeUndefined();
    expect(logs.some((l) => /experiment e1: fault on \S+ removed/.test(l))).toBe(true);
  });

  it('refuses an overlay for an unknown host with the reason, and keeps the config', async () => {
    const { cp, target } = await start();
    const g0 = cp.store.generation();
    await expect(applyExperiment(target, { name: 'bad', virtualServiceYaml: overlay('bad', 'nowhere'), ttlMs: 10_000 })).rejects.toThrow(/not declared by any ServiceEntry/);
    expect(faultOf(cp)).toBeUndefined();
    expect(cp.store.issues()).toEqual([]);
    expect(cp.store.generation()).toBeGreaterThanOrEqual(g0);
  });

  it('expires by itself when nobody removes it (the runner was killed): new generation, log line', async () => {
    const { cp, target, logs } = await start();
    const r = await applyExperiment(target, { name: 'ttl', virtualServiceYaml: overlay('ttl'), ttlMs: 800 });
    expect(faultOf(cp)).toBeDefined();
    await until(() => logs.some((l) => /experiment ttl: fault on \S+ expired \(TTL\)/.test(l)), 10_000);
    expect(faultOf(cp)).toBeUndefined();
    expect(cp.store.generation()).toBeGreaterThan(r.generation);
  });

  it('a DestinationRule overlay rides with the VirtualService: its settings reach the clusters, and go with it; a bad one is refused', async () => {
    const { cp, target } = await start();
    const rule = (name: string, tp: string): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, annotations: { meshlet.io/experiment: ${name} } }
spec: { host: reviews, trafficPolicy: ${tp} }
`;
    const policyOf = (): unknown => cp.store.current()?.clusters.find((c) => c.host.startsWith('reviews'))?.policy;
    const r = await applyExperiment(target, { name: 'cb', virtualServiceYaml: overlay('cb') + rule('cb', '{ connectionPool: { http: { http2MaxRequests: 1 } }, retryBudget: { percent: 50 } }'), ttlMs: 60_000 });
    expect(r.generation).toBeGreaterThan(0);
    expect(policyOf()).toMatchObject({ connectionPool: { maxRequests: 1 }, retryBudget: { percent: 50, minRetryConcurrency: 3 } });
    await removeExperiment(target, 'cb');
    expect(policyOf()).not.toHaveProperty('connectionPool.maxRequests', 1);
    expect(policyOf()).not.toHaveProperty('retryBudget');
    await expect(applyExperiment(target, { name: 'lb', virtualServiceYaml: overlay('lb') + rule('lb', '{ loadBalancer: { simple: RANDOM } }'), ttlMs: 10_000 })).rejects.toThrow(/an experiment overlay may set connectionPool, outlierDetection, retryBudget only/);
    await expect(applyExperiment(target, { name: 'x', virtualServiceYaml: rule('x', '{ retryBudget: { percent: 1 } }').replace(/^---\n/, ''), ttlMs: 10_000 })).rejects.toThrow(/one VirtualService, optionally followed by one DestinationRule/);
  });
});
