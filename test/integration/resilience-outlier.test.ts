// Outlier detection through a real meshlet process: ejection after consecutive
// 5xx, no traffic while ejected, return after baseEjectionTime with a single
// half-open trial, longer ejection the second time, /clusters state,
// maxEjectionPercent and minHealthPercent (panic mode).
import { describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, until, type MeshletProc } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';
import { answerName, type Behaviour, type Upstream } from '../support/upstream.js';

const scope = testScope();
const upstream = scope.upstream;

const fail503: Behaviour = (_req, res) => {
  res.writeHead(503);
  res.end();
};

/** Round robin + outlier detection with 1 s ejections; retries off so every 5xx reaches the client and the detector once. */
async function mesh(ports: number[], od: string): Promise<MeshletProc> {
  const yaml =
    serviceEntry('svc', ports) +
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc }
spec:
  host: svc
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    outlierDetection: { consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 1s, ${od} }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc }
spec:
  hosts: [svc]
  http:
    - route: [{ destination: { host: svc } }]
      retries: { attempts: 0 }
`;
  return scope.meshlet(yaml);
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
  it('ejects after consecutive 5xx, sends it nothing while ejected, returns it after base time, and doubles the second ejection', async () => {
    const bad = await upstream('bad', fail503);
    const good = await upstream('good', answerName('good'));
    const m = await mesh([bad.port, good.port], 'maxEjectionPercent: 100');

    // Round robin alternates: bad gets requests 1, 3, 5; its third 503 ejects it.
    expect(await burst(m, 5)).toEqual([503, 200, 503, 200, 503]);
    const ejectedAt = Date.now();
    const view = await endpoint(m, bad);
    expect(view).toMatchObject({ available: false, breaker: 'open', state: 'ejected: 3 consecutive 5xx' });
    expect((await cluster(m)).ejected).toBe(1);

    expect(await burst(m, 10)).toEqual(Array(10).fill(200));
    expect(bad.received.length).toBe(3);

    // Back after about baseEjectionTime (1 s), for a half-open trial.
    await until(async () => (await endpoint(m, bad)).available || undefined, 5000, 25);
    const firstEjection = Date.now() - ejectedAt;
    expect(firstEjection).toBeGreaterThanOrEqual(850);
    expect(firstEjection).toBeLessThan(2500);
    expect(await endpoint(m, bad)).toMatchObject({ state: 'half-open', breaker: 'half_open' });

    // The trial fails: ejected again at once, this time for 2 × base.
    const statuses = await burst(m, 2);
    expect(statuses.sort()).toEqual([200, 503]);
    const reEjectedAt = Date.now();
    expect(bad.received.length).toBe(4);
    expect(await endpoint(m, bad)).toMatchObject({ available: false, breaker: 'open', state: 'ejected: failed half-open trial' });
    await until(async () => (await endpoint(m, bad)).available || undefined, 6000, 25);
    const secondEjection = Date.now() - reEjectedAt;
    expect(secondEjection).toBeGreaterThanOrEqual(1800);
    expect(secondEjection).toBeLessThan(3500);

    // Healthy again: the trial succeeds and the endpoint closes.
    bad.behaviour = answerName('bad');
    expect(await burst(m, 4)).toEqual([200, 200, 200, 200]);
    expect(await endpoint(m, bad)).toMatchObject({ available: true, breaker: 'closed', state: 'healthy' });
    expect(bad.received.length).toBe(6);
  });

  it('the ejection multiplier decays while the endpoint stays healthy (one step per interval)', async () => {
    const bad = await upstream('bad', fail503);
    const good = await upstream('good', answerName('good'));
    const m = await mesh([bad.port, good.port], 'maxEjectionPercent: 100');
    const ejectFor = async (): Promise<number> => {
      bad.behaviour = fail503;
      // Until ejected: at most 3 of bad's 503s (round robin alternates).
      for (let i = 0; i < 6 && (await endpoint(m, bad)).available; i++) await send(m.outbound, { host: 'svc' });
      const at = Date.now();
      expect((await endpoint(m, bad)).available).toBe(false);
      await until(async () => (await endpoint(m, bad)).available || undefined, 6000, 25);
      return Date.now() - at;
    };
    const recover = async (): Promise<void> => {
      bad.behaviour = answerName('bad');
      await burst(m, 2);
      expect(await endpoint(m, bad)).toMatchObject({ breaker: 'closed', state: 'healthy' });
    };
    expect(await ejectFor()).toBeLessThan(1800); // 1st ejection: 1 × base
    await recover();
    expect(await ejectFor()).toBeGreaterThanOrEqual(1800); // right away again: 2 × base
    await recover();
    // Healthy for more than two intervals: the multiplier is back to 0, so the next is 1 × base, not 3 ×.
    await new Promise((r) => setTimeout(r, 2300));
    expect(await ejectFor()).toBeLessThan(1800);
  });

  it('maxEjectionPercent limits ejections, but one endpoint can always be ejected', async () => {
    const list = await Promise.all(['a', 'b', 'c'].map((n) => upstream(n, fail503)));
    const m = await mesh(
      list.map((u) => u.port),
      'maxEjectionPercent: 10',
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
    const m = await mesh([bad.port, good.port], 'maxEjectionPercent: 100, minHealthPercent: 60');
    expect(await burst(m, 5)).toEqual([503, 200, 503, 200, 503]);
    const c = await cluster(m);
    expect(c.ejected).toBe(1);
    expect(c.panic).toBe(true);
    // 1 of 2 healthy is 50% < 60%: round robin goes on over both.
    expect(await burst(m, 10)).toEqual([200, 503, 200, 503, 200, 503, 200, 503, 200, 503]);
    expect(bad.received.length).toBe(8);
  });
});
