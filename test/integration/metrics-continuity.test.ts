// A config push that brings an endpoint back as a new object (same ip:port,
// new weight; the same happens when its TLS changes) must not reset its
// istio_requests_total series: Prometheus would see the counter fall, and a
// raw sum() across the push would lose what was counted before. Found in the
// pod-rig mesh scenario, where a fault's TTL revert reset every series.
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { startMeshlet, tempConfig, until } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';
import { answerName } from '../support/upstream.js';

const scope = testScope();

const mesh = (port: number, weight: number, version = 'v1'): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc }
spec:
  hosts: [svc]
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints:
    - { address: 127.0.0.1, ports: { http: ${port} }, weight: ${weight}, labels: { app: svc, version: ${version} } }
`;

interface ClusterView {
  name: string;
  endpoints: { address: string; weight: number }[];
}

describe('metric series across a config push that replaces an endpoint object', () => {
  it('keeps counting the same series when only the weight changed, and starts a new one when the version label changed', async () => {
    const up = await scope.upstream('u', answerName('u'));
    const dir = tempConfig({ 'c.yaml': mesh(up.port, 1) });
    const m = await startMeshlet(['--config', dir, '--access-log', 'off']);
    scope.onTeardown(() => void m.stop());
    const count = async (version: string): Promise<number> => {
      const text = (await send(m.metrics, { path: '/stats/prometheus' })).body;
      const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{') && l.includes('destination_service_name="svc"') && l.includes(`destination_version="${version}"`));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const weightNow = async (): Promise<number | undefined> => {
      const list = (JSON.parse((await send(m.admin, { path: '/clusters' })).body) as { clusters: ClusterView[] }).clusters;
      return list.find((c) => c.name.startsWith('outbound|9080||svc'))?.endpoints[0]?.weight;
    };
    for (let i = 0; i < 3; i++) expect((await send(m.outbound, { host: 'svc' })).status).toBe(200);
    expect(await count('v1')).toBe(3);

    writeFileSync(`${dir}/c.yaml`, mesh(up.port, 2));
    m.proc.kill('SIGHUP');
    await until(async () => (await weightNow()) === 2 || undefined, 10_000, 50);
    for (let i = 0; i < 2; i++) expect((await send(m.outbound, { host: 'svc' })).status).toBe(200);
    // Before: 2 (the series was dropped with the old endpoint object and began again at 0).
    expect(await count('v1')).toBe(5);

    writeFileSync(`${dir}/c.yaml`, mesh(up.port, 2, 'v2'));
    m.proc.kill('SIGHUP');
    await until(async () => {
      await send(m.outbound, { host: 'svc' });
      return (await count('v2')) > 0 || undefined;
    }, 10_000, 50);
    // A changed label is a different series: v1's is gone with the old identity, v2 counts on its own.
    expect(await count('v1')).toBe(0);
    expect(await count('v2')).toBeGreaterThanOrEqual(1);
  });
});
