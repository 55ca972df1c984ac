// Incremental pushes over the real gRPC stream: when only endpoints change,
// a sidecar that asked for endpoint-only updates gets just the changed
// endpoints (and applies them), one that did not gets the whole snapshot;
// anything else is still a whole snapshot; a sidecar that does not run the
// update's base refuses it and is sent the whole snapshot.
import { afterEach, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import { configDir, FakeProxy, routes, waitFor } from './control-plane-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function services(addresses: readonly string[]): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews]
  resolution: STATIC
  ports: [{ number: 9080, name: http }]
  endpoints:
${addresses.map((a) => `    - { address: ${a}, labels: { version: v${Number(a.split('.')[3]) % 2} } }`).join('\n')}
`;
}

const ADDRS = Array.from({ length: 200 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
const CLUSTER = 'outbound|9080||reviews.default.svc.cluster.local';
const eps = (c: MeshConfig | undefined): string[] => (c?.clusters.find((x) => x.name === CLUSTER)?.endpoints ?? []).map((e) => `${e.address}:${e.port}:${e.labels['version']}`).sort();

async function pushBytes(cp: RunningControlPlane): Promise<{ snapshot: number; endpoints: number }> {
  const text = await (await fetch(`http://127.0.0.1:${cp.metricsPort}/metrics`)).text();
  const read = (type: string): number => Number(new RegExp(`meshlet_cp_push_bytes_total\\{type="${type}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { snapshot: read('snapshot'), endpoints: read('endpoints') };
}

async function setup() {
  const files = await configDir('1s');
  cleanups.push(() => files.remove());
  await files.write('10-services.yaml', services(ADDRS));
  const cp = await startControlPlane({ configDir: files.dir, grpcHost: '127.0.0.1', grpcPort: 0, metricsPort: 0, debounceMs: 10, watchDebounceMs: 10, rescanMs: 100, security: { insecure: true }, log: () => {} });
  cleanups.push(() => cp.close());
  const target = `127.0.0.1:${cp.port}`;
  const delta = new FakeProxy(target, 'delta-1');
  const whole = new FakeProxy(target, 'whole-1', { endpointDeltas: false });
  cleanups.push(() => delta.client.close(), () => whole.client.close());
  await waitFor('first config', () => delta.applied.length > 0 && whole.applied.length > 0);
  return { files, cp, delta, whole };
}

describe('endpoint-only updates (incremental pushes)', () => {
  it('sends only the changed endpoints to a sidecar that asked for them, and it ends with the same config', async () => {
    const { files, cp, delta, whole } = await setup();
    const before = await pushBytes(cp);
    const next = ADDRS.slice(1).concat('10.9.9.9');
    next[5] = '10.8.8.8';
    await files.write('10-services.yaml', services(next));
    await waitFor('both updated', () => eps(delta.last()).includes('10.9.9.9:9080:v1') && eps(whole.last()).includes('10.9.9.9:9080:v1'));
    expect(eps(delta.last())).toEqual(eps(whole.last()));
    expect(eps(delta.last())).not.toContain('10.1.0.0:9080:v0');
    expect(delta.last()?.version).toBe(whole.last()?.version);
    expect(delta.rejects).toEqual([]);
    const after = await pushBytes(cp);
    const endpointBytes = after.endpoints - before.endpoints;
    const snapshotBytes = after.snapshot - before.snapshot;
    // The whole-snapshot sidecar got ~200 endpoints; the other only the few that changed.
    expect(endpointBytes).toBeGreaterThan(0);
    expect(endpointBytes * 10).toBeLessThan(snapshotBytes);
    expect(cp.server.status().find((n) => n.nodeId === 'delta-1')?.versionAcked).toBe(delta.last()?.version);
  });

  it('a route change is still a whole snapshot', async () => {
    const { files, cp, delta } = await setup();
    const before = await pushBytes(cp);
    await files.write('30-routes.yaml', routes('4s'));
    await waitFor('route applied', () => delta.last()?.virtualHosts.some((v) => v.routes[0]?.timeoutMs === 4000) === true);
    const after = await pushBytes(cp);
    expect(after.endpoints).toBe(before.endpoints);
    expect(after.snapshot).toBeGreaterThan(before.snapshot);
  });

  it('a sidecar not running the base refuses the update and is sent the whole snapshot', async () => {
    const { files, delta } = await setup();
    const applied = delta.applied.length;
    delta.version = 'something-else';
    await files.write('10-services.yaml', services(ADDRS.slice(0, 100)));
    await waitFor('converged through a whole snapshot', () => eps(delta.last()).length === 100);
    expect(delta.rejects.flat().map((i) => i.path)).toEqual(['base_version']);
    expect(delta.applied.length).toBe(applied + 1);
  });
});
