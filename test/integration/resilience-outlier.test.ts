// Outlier detection through a real meshlet process: ejection after consecutive
// 5xx, no traffic while ejected, return after baseEjectionTime with a single
// half-open trial, longer ejection the second time, /clusters state,
// maxEjectionPercent and minHealthPercent (panic mode). Nothing here asserts a
// wall-clock window or sleeps: conditions are polled with a bound, and the
// exact ejection times and multiplier decay are tested on an injected clock in
// proxy/upstream/outlier.test.ts.
import { describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { writeFileSync } from 'node:fs';
import { serviceEntry, startMeshlet, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';
import { answerName, type Behaviour, type Upstream } from '../support/upstream.js';

const scope = testScope();
const upstream = scope.upstream;

const fail503: Behaviour = (_req, res) => {
  res.writeHead(503);
  res.end();
};

/**
 * Round robin + outlier detection; retries off so every 5xx reaches the client
 * and the detector once. `base` is the ejection time: short where a test waits
 * for the return, long where an endpoint must stay out however slow the machine.
 */
function meshYaml(ports: number[], od: string, base = '1s'): string {
  return (
    serviceEntry('svc', ports) +
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc }
spec:
  host: svc
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    outlierDetection: { consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: ${base}, ${od} }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc }
spec:
  hosts: [svc]
  http:
    - route: [{ destination: { host: svc } }]
      retries: { attempts: 0 }
`
  );
}

async function mesh(ports: number[], od: string, base = '1s'): Promise<MeshletProc> {
  return scope.meshlet(meshYaml(ports, od, base));
}

interface EndpointView {
  address: string;
  available: boolean;
  state: string;
  breaker: string;
}
interface ClusterView {
  name: string;
  ejected: number;
  panic: boolean;
  endpoints: EndpointView[];
}

async function cluster(m: MeshletProc): Promise<ClusterView> {
  const r = await send(m.admin, { path: '/clusters' });
  const list = (JSON.parse(r.body) as { clusters: ClusterView[] }).clusters;
  return list.find((c) => c.name.startsWith('outbound|9080||svc'))!;
}

async function endpoint(m: MeshletProc, u: Upstream): Promise<EndpointView> {
  return (await cluster(m)).endpoints.find((e) => e.address === `127.0.0.1:${u.port}`)!;
}

async function burst(m: MeshletProc, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(m.outbound, { host: 'svc' })).status);
  return out;
}

describe('outlier detection', () => {
  it('ejects after consecutive 5xx, sends it nothing while ejected, returns it after base time, and ejects again on a failed trial', async () => {
    const bad = await upstream('bad', fail503);
    const good = await upstream('good', answerName('good'));
    const m = await mesh([bad.port, good.port], 'maxEjectionPercent: 100');

    // Round robin alternates: bad gets requests 1, 3, 5; its third 503 ejects it.
    expect(await burst(m, 5)).toEqual([503, 200, 503, 200, 503]);
    const view = await endpoint(m, bad);
    expect(view).toMatchObject({ available: false, breaker: 'open', state: 'ejected: 3 consecutive 5xx' });
    expect((await cluster(m)).ejected).toBe(1);

    // Nothing reaches it while it is out (a few requests: the 1 s ejection may end on a slow machine).
    const seen = bad.received.length;
    for (let i = 0; i < 4 && !(await endpoint(m, bad)).available; i++) expect((await send(m.outbound, { host: 'svc' })).status).toBe(200);
    expect(bad.received.length).toBe(seen);

    // Back after baseEjectionTime, for a half-open trial.
    await until(async () => (await endpoint(m, bad)).available || undefined, 15_000, 25);
    expect(await endpoint(m, bad)).toMatchObject({ state: 'half-open', breaker: 'half_open' });

    // The trial fails: ejected again at once (for 2 × base: timed in outlier.test.ts).
    const statuses = await burst(m, 2);
    expect(statuses.sort()).toEqual([200, 503]);
    expect(bad.received.length).toBe(4);
    expect(await endpoint(m, bad)).toMatchObject({ available: false, breaker: 'open', state: 'ejected: failed half-open trial' });
    await until(async () => (await endpoint(m, bad)).available || undefined, 15_000, 25);

    // Healthy again: the trial succeeds and the endpoint closes.
    bad.behaviour = answerName('bad');
    expect(await burst(m, 4)).toEqual([200, 200, 200, 200]);
    expect(await endpoint(m, bad)).toMatchObject({ available: true, breaker: 'closed', state: 'healthy' });
    expect(bad.received.length).toBe(6);
  });

  it('switching outlier detection off ends an ejection at once (Envoy rebuilds the cluster), not after its ejection time', async () => {
    const bad = await upstream('bad', fail503);
    const good = await upstream('good', answerName('good'));
    const dir = tempConfig({ 'c.yaml': meshYaml([bad.port, good.port], 'maxEjectionPercent: 100', '300s') });
    const m = await startMeshlet(['--config', dir, '--access-log', 'off']);
    scope.onTeardown(() => void m.stop());
    expect(await burst(m, 5)).toEqual([503, 200, 503, 200, 503]);
    expect(await endpoint(m, bad)).toMatchObject({ available: false, breaker: 'open' });
    bad.behaviour = answerName('bad');
    // Same endpoints, outlier detection switched off the Istio way (both triggers 0).
    writeFileSync(`${dir}/c.yaml`, meshYaml([bad.port, good.port], 'consecutiveGatewayErrors: 0, maxEjectionPercent: 100', '300s').replace('consecutive5xxErrors: 3', 'consecutive5xxErrors: 0'));
    m.proc.kill('SIGHUP');
    // Before: the endpoint sat out its 300 s ejection under a policy that no longer ejects.
    const back = await until(async () => {
      const c = await cluster(m);
      return c.ejected === 0 && c.endpoints.every((e) => e.available) ? c : undefined;
    }, 10_000, 50);
    expect(back.endpoints.find((e) => e.address === `127.0.0.1:${bad.port}`)).toMatchObject({ available: true, state: 'healthy' });
    const seen = bad.received.length;
    expect(await burst(m, 4)).toEqual([200, 200, 200, 200]);
    expect(bad.received.length).toBe(seen + 2);
  });

  it('maxEjectionPercent limits ejections, but one endpoint can always be ejected', async () => {
    const list = await Promise.all(['a', 'b', 'c'].map((n) => upstream(n, fail503)));
    const m = await mesh(
      list.map((u) => u.port),
      'maxEjectionPercent: 10',
      '60s',
    );
    expect(await burst(m, 30)).toEqual(Array(30).fill(503));
    const c = await cluster(m);
    // 10% of 3 endpoints is less than one, yet one is ejected; a second would exceed the limit.
    expect(c.ejected).toBe(1);
    expect(c.endpoints.filter((e) => !e.available).length).toBe(1);
    // The two left keep sharing the traffic.
    const counts = list.map((u) => u.received.length).sort((x, y) => x - y);
    expect(counts[0]).toBe(3);
    expect(counts[1]! + counts[2]!).toBe(27);
  });

  it('below minHealthPercent the cluster panics and balances over all endpoints, ejected ones included', async () => {
    const bad = await upstream('bad', fail503);
    const good = await upstream('good', answerName('good'));
    const m = await mesh([bad.port, good.port], 'maxEjectionPercent: 100, minHealthPercent: 60', '60s');
    expect(await burst(m, 5)).toEqual([503, 200, 503, 200, 503]);
    const c = await cluster(m);
    expect(c.ejected).toBe(1);
    expect(c.panic).toBe(true);
    // 1 of 2 healthy is 50% < 60%: round robin goes on over both.
    expect(await burst(m, 10)).toEqual([200, 503, 200, 503, 200, 503, 200, 503, 200, 503]);
    expect(bad.received.length).toBe(8);
  });
});
