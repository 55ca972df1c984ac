// Control plane ⇄ sidecar config stream over real gRPC on 127.0.0.1, with the
// control plane in-process and real Istio YAML in a temp dir.
import { afterEach, describe, expect, it } from 'vitest';
import { fetchNodeConfig, fetchStatus, startControlPlane, syncState, type RunningControlPlane } from '../../control-plane/index.js';
import { BAD_ROUTES, configDir, FakeProxy, routes, waitFor } from './control-plane-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(timeout = '1s'): Promise<{ cp: RunningControlPlane; target: string; files: Awaited<ReturnType<typeof configDir>> }> {
  const files = await configDir(timeout);
  cleanups.push(files.remove);
  const cp = await startControlPlane({ configDir: files.dir, grpcHost: '127.0.0.1', grpcPort: 0, security: { insecure: true }, metricsPort: 0, rescanMs: 200, log: () => {} });
  cleanups.push(() => cp.close());
  return { cp, target: `127.0.0.1:${cp.port}`, files };
}

function proxy(target: string, id: string, version?: string): FakeProxy {
  const p = new FakeProxy(target, id, {}, version);
  cleanups.push(() => p.client.close());
  return p;
}

async function metric(cp: RunningControlPlane, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${cp.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

describe('control plane config stream', () => {
  it('sends a snapshot on subscribe, gets an ACK, and reports the node as synced', async () => {
    const { cp, target } = await setup();
    const p = proxy(target, 'reviews-v1.default');
    await waitFor('first apply', () => p.applied.length === 1);
    const cfg = p.last();
    expect(cfg?.clusters.map((c) => c.name)).toContain('outbound|9080||reviews.default.svc.cluster.local');
    expect(cfg?.virtualHosts[0]?.routes[0]?.timeoutMs).toBe(1000);
    await waitFor('status synced', async () => {
      const st = await fetchStatus(target);
      return st.nodes.length === 1 && st.nodes[0] !== undefined && syncState(st.nodes[0]) === 'SYNCED';
    });
    const st = await fetchStatus(target);
    expect(st.nodes[0]?.versionAcked).toBe(cfg?.version);
    expect(await metric(cp, 'meshlet_cp_connected_sidecars')).toBe(1);
    const nodeCfg = await fetchNodeConfig(target, 'reviews-v1.default');
    expect(nodeCfg.connected).toBe(true);
    expect(nodeCfg.version).toBe(cfg?.version);
    expect(JSON.parse(nodeCfg.configJson).clusters.length).toBe(cfg?.clusters.length);
  });

  it('pushes one new version to every client after a burst of edits', async () => {
    const { cp, target, files } = await setup();
    const a = proxy(target, 'a');
    const b = proxy(target, 'b');
    await waitFor('both applied', () => a.applied.length === 1 && b.applied.length === 1);
    const pushesBefore = await metric(cp, 'meshlet_cp_pushes_total');
    for (const t of ['2s', '3s', '4s']) await files.write('30-routes.yaml', routes(t));
    await waitFor('both got the edit', () => a.last()?.virtualHosts[0]?.routes[0]?.timeoutMs === 4000 && b.last()?.virtualHosts[0]?.routes[0]?.timeoutMs === 4000);
    // A barrier instead of a sleep: one more edit. Pushes on a stream arrive in
    // order, so a straggler from the burst would land before the barrier's.
    await files.write('30-routes.yaml', routes('5s'));
    await waitFor('both got the barrier', () => a.last()?.virtualHosts[0]?.routes[0]?.timeoutMs === 5000 && b.last()?.virtualHosts[0]?.routes[0]?.timeoutMs === 5000);
    expect(a.applied).toHaveLength(3);
    expect(b.applied).toHaveLength(3);
    expect(a.applied[1]?.virtualHosts[0]?.routes[0]?.timeoutMs).toBe(4000);
    expect(a.last()?.version).toBe(b.last()?.version);
    expect(await metric(cp, 'meshlet_cp_pushes_total')).toBe(pushesBefore + 4);
  });

  it('reports a bad file, keeps serving the last good state, and pushes once it is fixed', async () => {
    const { cp, target, files } = await setup();
    const a = proxy(target, 'a');
    await waitFor('applied', () => a.applied.length === 1);
    const good = a.last()?.version;
    await files.write('30-routes.yaml', BAD_ROUTES);
    await waitFor('config error reported', async () => (await fetchStatus(target)).configErrors.length > 0);
    const st = await fetchStatus(target);
    expect(st.configErrors[0]?.resource).toContain('VirtualService');
    expect(st.configErrors[0]?.file).toContain('30-routes.yaml');
    expect(await metric(cp, 'meshlet_cp_config_errors_total')).toBeGreaterThanOrEqual(1);
    // A newcomer still gets the last good state.
    const late = proxy(target, 'late');
    await waitFor('late applied', () => late.applied.length === 1);
    expect(late.last()?.version).toBe(good);
    expect(a.applied).toHaveLength(1);
    await files.write('30-routes.yaml', routes('7s'));
    await waitFor('fixed config pushed', () => a.last()?.virtualHosts[0]?.routes[0]?.timeoutMs === 7000);
    expect((await fetchStatus(target)).configErrors).toHaveLength(0);
  });

  it('records a NACK with its reason; the sidecar keeps its old version', async () => {
    const { cp, target, files } = await setup();
    const a = proxy(target, 'picky');
    await waitFor('applied', () => a.applied.length === 1);
    const good = a.version;
    a.refuse = () => [{ resource: 'VirtualHost/reviews', path: 'routes[0]', reason: 'compiler says no' }];
    await files.write('30-routes.yaml', routes('9s'));
    await waitFor('nack recorded', async () => (await fetchStatus(target)).nodes[0]?.lastNackReason !== '');
    const row = (await fetchStatus(target)).nodes[0];
    expect(row?.lastNackReason).toContain('compiler says no');
    expect(row?.versionAcked).toBe(good);
    expect(row && syncState(row)).toBe('STALE');
    expect(a.version).toBe(good);
    expect(a.rejects).toHaveLength(1);
    expect(await metric(cp, 'meshlet_cp_nacks_total')).toBe(1);
  });

  it('NACKs an invalid snapshot without applying it (validateSnapshot on the sidecar)', async () => {
    const { target } = await setup();
    const a = proxy(target, 'x');
    await waitFor('applied', () => a.applied.length === 1);
    // Malformed bodies on the wire are decoded and validated by the client: feed one directly.
    const { decodeSnapshot } = await import('../../proxy/xds/index.js');
    const bad = decodeSnapshot('v', [{ kind: 'cluster', name: 'c', body: '{not json', ttlMs: 0 }], 0);
    expect(bad.ok).toBe(false);
    const { validateSnapshot } = await import('../../proxy/config/validate/validate-snapshot.js');
    const wrong = decodeSnapshot('v', [{ kind: 'cluster', name: 'c', body: '{"name":"c"}', ttlMs: 0 }], 0);
    expect(wrong.ok && validateSnapshot(wrong.config).ok).toBe(false);
  });

  it('sends nothing to a sidecar that resubscribes with the current version', async () => {
    const { target, files } = await setup();
    const first = proxy(target, 'r');
    await waitFor('applied', () => first.applied.length === 1);
    const version = first.version;
    first.client.close();
    const again = proxy(target, 'r', version);
    await waitFor('connected', () => again.states.includes('connected'));
    await waitFor('status synced', async () => {
      const n = (await fetchStatus(target)).nodes.find((x) => x.nodeId === 'r');
      return n !== undefined && syncState(n) === 'SYNCED';
    });
    // A barrier instead of a sleep: the next edit must be the first thing it is sent.
    await files.write('30-routes.yaml', routes('6s'));
    await waitFor('barrier applied', () => again.applied.length > 0);
    expect(again.applied).toHaveLength(1);
    expect(again.last()?.virtualHosts[0]?.routes[0]?.timeoutMs).toBe(6000);
    // A stale version gets the full snapshot.
    const stale = proxy(target, 's', 'deadbeef');
    await waitFor('stale applied', () => stale.applied.length === 1);
  });

  it('keeps the same version across a control-plane restart with unchanged files', async () => {
    const files = await configDir();
    cleanups.push(files.remove);
    const versions: string[] = [];
    for (let i = 0; i < 2; i++) {
      const cp = await startControlPlane({ configDir: files.dir, grpcHost: '127.0.0.1', grpcPort: 0, security: { insecure: true }, metricsPort: -1, log: () => {} });
      versions.push((await fetchNodeConfig(`127.0.0.1:${cp.port}`, 'n')).version);
      await cp.close();
    }
    expect(versions[0]).not.toBe('');
    expect(versions[0]).toBe(versions[1]);
  });

  it('resolves dns clusters through /etc/hosts (localhost) and pushes static addresses', async () => {
    const { target } = await setup();
    const a = proxy(target, 'dns');
    await waitFor('applied', () => a.applied.length >= 1);
    const ext = a.last()?.clusters.find((c) => c.host === 'api.example.com');
    expect(ext?.discovery).toBe('static');
    expect(ext?.endpoints.length).toBeGreaterThanOrEqual(1);
    for (const ep of ext?.endpoints ?? []) {
      expect(['127.0.0.1', '::1']).toContain(ep.address);
      expect(ep.port).toBe(8080);
    }
  });

  it('refreshes TTL-bound faults while connected and drops them once the control plane is gone', async () => {
    const files = await configDir();
    cleanups.push(files.remove);
    await files.write('30-routes.yaml', routes('1s').replace('      timeout: 1s', '      timeout: 1s\n      fault:\n        abort: { httpStatus: 503, percentage: { value: 50 } }'));
    const cp = await startControlPlane({ configDir: files.dir, grpcHost: '127.0.0.1', grpcPort: 0, security: { insecure: true }, metricsPort: -1, faultTtlMs: 600, log: () => {} });
    cleanups.push(() => cp.close());
    const a = proxy(`127.0.0.1:${cp.port}`, 'ttl');
    await waitFor('applied', () => a.applied.length === 1);
    const fault = a.last()?.virtualHosts[0]?.routes[0]?.fault;
    expect(fault?.abort?.httpStatus).toBe(503);
    expect(fault?.expiresAt).toBeGreaterThan(Date.now());
    // Heartbeats (every ttl/2) re-send the same version and push the expiry forward.
    await waitFor('heartbeat', () => a.applied.length >= 3, 3000);
    expect(a.last()?.version).toBe(a.applied[0]?.version);
    expect(a.last()?.virtualHosts[0]?.routes[0]?.fault).toBeDefined();
    await cp.close();
    await waitFor('fault expired', () => a.last()?.version.endsWith('~expired') === true, 3000);
    expect(a.last()?.virtualHosts[0]?.routes[0]?.fault).toBeUndefined();
    expect(a.last()?.virtualHosts[0]?.routes[0]?.timeoutMs).toBe(1000);
  });
});
