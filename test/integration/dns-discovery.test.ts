// ServiceEntry resolution: DNS in standalone mode: endpoint names are resolved
// with dns.lookup (so /etc/hosts counts, as in compose and the pod rig), each
// address becomes an endpoint, and traffic reaches them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { startMeshlet, tempConfig, type MeshletProc } from '../support/meshlet-process.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let up: Upstream;
let mesh: MeshletProc;

beforeAll(async () => {
  up = await startUpstream('by-name');
  mesh = await startMeshlet([
    '--config',
    tempConfig({
      'dns.yaml': `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: named }
spec:
  hosts: [named]
  resolution: DNS
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: [{ address: localhost, ports: { http: ${up.port} }, labels: { app: named } }]
`,
    }),
    '--access-log',
    'off',
    '--dns-refresh',
    '500',
  ]);
});

afterAll(async () => {
  await mesh?.stop();
  await up?.close();
});

it('resolves endpoint names with dns.lookup and routes to the addresses', async () => {
  const r = await send(mesh.admin, { path: '/clusters' });
  const clusters = (JSON.parse(r.body) as { clusters: { name: string; discovery: string; endpoints: { address: string }[] }[] }).clusters;
  const c = clusters.find((x) => x.name === 'outbound|9080||named.default.svc.cluster.local');
  expect(c?.discovery).toBe('dns');
  const addrs = c!.endpoints.map((e) => e.address);
  // localhost resolves through /etc/hosts: 127.0.0.1 always, ::1 where IPv6 is on.
  expect(addrs).toContain(`127.0.0.1:${up.port}`);
  for (const a of addrs) expect([`127.0.0.1:${up.port}`, `[::1]:${up.port}`]).toContain(a);
  // The upstream listens on 127.0.0.1 only: a pick of ::1 is refused and the
  // default retry (connect-failure, another endpoint) takes it to 127.0.0.1.
  for (let i = 0; i < 10; i++) {
    const res = await send(mesh.outbound, { host: 'named' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ name: 'by-name' });
  }
});
