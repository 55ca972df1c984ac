// Istio's request-timeouts task: an app may set x-envoy-upstream-rq-timeout-ms
// (and the per-try variant) on its outbound requests; the sidecar honours them
// and strips them. On the inbound side they are stripped and never honoured.
import { describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';

const scope = testScope();

const slow = (ms: number) => (_req: unknown, res: { end(b: string): void }) => void setTimeout(() => res.end('late'), ms);

describe('per-request timeout headers', () => {
  it('outbound: x-envoy-upstream-rq-timeout-ms replaces the route timeout (none here) and is not forwarded', async () => {
    const up = await scope.upstream('slow', slow(3000));
    const m = await scope.meshlet(serviceEntry('svc', [up.port]));
    const r = await send(m.outbound, { host: 'svc', headers: { 'x-envoy-upstream-rq-timeout-ms': '200', 'x-envoy-upstream-rq-per-try-timeout-ms': '100' }, timeoutMs: 2500 });
    expect(r.status).toBe(504);
    expect(r.headers['x-meshlet-flags']).toMatch(/UT/);
    expect(up.received[0]?.headers['x-envoy-upstream-rq-timeout-ms']).toBeUndefined();
    expect(up.received[0]?.headers['x-envoy-upstream-rq-per-try-timeout-ms']).toBeUndefined();
  });

  it('outbound: the per-try header retries a hanging endpoint on another one', async () => {
    const hang = await scope.upstream('hang', slow(5000));
    const fast = await scope.upstream('fast');
    const yaml =
      serviceEntry('svc', [hang.port, fast.port]) +
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc }
spec: { host: svc, trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc }
spec:
  hosts: [svc]
  http: [{ retries: { attempts: 2, retryOn: 5xx }, route: [{ destination: { host: svc } }] }]
`;
    const m = await scope.meshlet(yaml);
    for (let i = 0; i < 2; i++) {
      const r = await send(m.outbound, { host: 'svc', headers: { 'x-envoy-upstream-rq-per-try-timeout-ms': '150' }, timeoutMs: 4000 });
      expect(r.status).toBe(200);
    }
    expect(hang.received.length).toBeGreaterThanOrEqual(1);
  });

  it('inbound: both headers are stripped and not honoured (a caller cannot cut the pod\'s timeouts)', async () => {
    const app = await scope.upstream('app', slow(400));
    const m = await scope.meshlet(serviceEntry('other', [app.port]), ['--app-port', String(app.port)]);
    const r = await send(m.inbound, { host: 'app', headers: { 'x-envoy-upstream-rq-timeout-ms': '50', 'x-envoy-upstream-rq-per-try-timeout-ms': '50' }, timeoutMs: 4000 });
    expect(r.status).toBe(200);
    expect(r.body).toBe('late');
    expect(app.received[0]?.headers['x-envoy-upstream-rq-timeout-ms']).toBeUndefined();
    expect(app.received[0]?.headers['x-envoy-upstream-rq-per-try-timeout-ms']).toBeUndefined();
  });
});
