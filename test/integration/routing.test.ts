// Routing through a real meshlet process: host forms, every match type,
// first-match order, header operations, rewrites, redirects, direct responses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, startMeshlet, tempConfig, type MeshletProc } from '../support/meshlet-process.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let a: Upstream;
let b: Upstream;
let other: Upstream;
let mesh: MeshletProc;

beforeAll(async () => {
  a = await startUpstream('a');
  b = await startUpstream('b');
  other = await startUpstream('other');
  const dir = tempConfig({
    'services.yaml':
      serviceEntry('web', [a.port, b.port], { labels: [{ app: 'web', version: 'v1' }, { app: 'web', version: 'v2' }] }) +
      serviceEntry('api', [other.port], { ns: 'prod' }),
    'rules.yaml': `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: web }
spec:
  host: web
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: web }
spec:
  hosts: [web]
  http:
    - name: exact
      match: [{ uri: { exact: /exact } }]
      route: [{ destination: { host: web, subset: v2 } }]
    - name: regex
      match: [{ uri: { regex: '/items/[0-9]+' } }]
      route: [{ destination: { host: web, subset: v2 } }]
    - name: header-and-method
      match: [{ headers: { x-user: { exact: jason } }, method: { exact: POST } }]
      route: [{ destination: { host: web, subset: v2 } }]
    - name: query-or-nocase
      match:
        - queryParams: { beta: { exact: "1" } }
        - uri: { prefix: /CaseLess }
          ignoreUriCase: true
      route: [{ destination: { host: web, subset: v2 } }]
    - name: without-header
      match: [{ uri: { prefix: /secret }, withoutHeaders: { x-token: {} } }]
      directResponse: { status: 403, body: { string: "token required" } }
    - name: redirect
      match: [{ uri: { exact: /old } }]
      redirect: { uri: /new, redirectCode: 302 }
    - name: rewrite
      match: [{ uri: { prefix: /v1/api } }]
      rewrite: { uri: /api, authority: web.internal }
      route: [{ destination: { host: web, subset: v1 } }]
    - name: headers
      match: [{ uri: { prefix: /hdr } }]
      headers:
        request: { set: { x-set: yes }, add: { x-added: one }, remove: [x-drop] }
        response: { set: { x-resp: r }, remove: [x-upstream-secret] }
      route: [{ destination: { host: web, subset: v1 } }]
    - name: first-wins
      match: [{ uri: { prefix: / } }]
      route: [{ destination: { host: web, subset: v1 } }]
    - name: never
      match: [{ uri: { prefix: /exact } }]
      route: [{ destination: { host: web, subset: v2 } }]
`,
  });
  mesh = await startMeshlet(['--config', dir, '--access-log', 'off']);
});

afterAll(async () => {
  await mesh?.stop();
  await Promise.all([a, b, other].map((u) => u?.close()));
});

const nameOf = (body: string): string => (JSON.parse(body) as { name: string }).name;

describe('host matching', () => {
  it.each(['web', 'web:9080', 'web.default', 'web.default.svc', 'web.default.svc.cluster.local', 'WEB.default.svc.cluster.local:9080'])('routes Host %s', async (host) => {
    const r = await send(mesh.outbound, { host, path: '/x' });
    expect(r.status).toBe(200);
    expect(nameOf(r.body)).toBe('a');
  });

  it('routes absolute-form requests (explicit proxy use)', async () => {
    const r = await send(mesh.outbound, { path: 'http://web.default:9080/x', host: 'ignored' });
    expect(r.status).toBe(200);
    expect(a.received.at(-1)?.headers.host).toBe('web.default:9080');
  });

  it('resolves another namespace only by its qualified name', async () => {
    expect((await send(mesh.outbound, { host: 'api.prod' })).status).toBe(200);
    expect((await send(mesh.outbound, { host: 'api.prod.svc.cluster.local:9080' })).status).toBe(200);
    const short = await send(mesh.outbound, { host: 'api' });
    expect(short.status).toBe(404);
  });

  it('answers 404 NR naming the host when nothing routes it', async () => {
    const r = await send(mesh.outbound, { host: 'nowhere.example' });
    expect(r.status).toBe(404);
    expect(r.headers['x-meshlet-flags']).toBe('NR');
    expect(r.body).toContain('nowhere.example');
  });
});

describe('match types and order', () => {
  const cases: [string, { path: string; method?: string; headers?: Record<string, string> }, string][] = [
    ['uri exact', { path: '/exact' }, 'b'],
    ['uri exact is exact', { path: '/exact/more' }, 'a'],
    ['uri regex', { path: '/items/42' }, 'b'],
    ['uri regex is a full match', { path: '/items/42x' }, 'a'],
    ['headers AND method', { path: '/p', method: 'POST', headers: { 'x-user': 'jason' } }, 'b'],
    ['header without method', { path: '/p', headers: { 'x-user': 'jason' } }, 'a'],
    ['queryParams', { path: '/q?beta=1' }, 'b'],
    ['ignoreUriCase (OR block)', { path: '/caseless/x' }, 'b'],
    ['first match wins over a later route', { path: '/exact' }, 'b'],
  ];
  it.each(cases)('%s', async (_name, r, expected) => {
    const res = await send(mesh.outbound, { host: 'web', path: r.path, method: r.method, headers: r.headers });
    expect(res.status).toBe(200);
    expect(nameOf(res.body)).toBe(expected);
  });

  it('withoutHeaders + directResponse', async () => {
    const denied = await send(mesh.outbound, { host: 'web', path: '/secret' });
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('token required');
    const allowed = await send(mesh.outbound, { host: 'web', path: '/secret', headers: { 'x-token': 't' } });
    expect(allowed.status).toBe(200);
  });

  it('redirect', async () => {
    const r = await send(mesh.outbound, { host: 'web:9080', path: '/old?x=1' });
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('http://web/new?x=1');
  });

  it('rewrite uri prefix and authority', async () => {
    const r = await send(mesh.outbound, { host: 'web', path: '/v1/api/users?id=7' });
    expect(r.status).toBe(200);
    const got = a.received.at(-1)!;
    expect(got.url).toBe('/api/users?id=7');
    expect(got.headers.host).toBe('web.internal');
  });
});

describe('headers', () => {
  it('applies request and response set/add/remove and strips hop-by-hop headers', async () => {
    b.behaviour = a.behaviour = (_req, res) => {
      res.setHeader('x-upstream-secret', 's');
      res.setHeader('connection', 'keep-alive, x-hop');
      res.setHeader('x-hop', 'h');
      res.end('ok');
    };
    const r = await send(mesh.outbound, {
      host: 'web',
      path: '/hdr',
      headers: { 'x-drop': 'd', 'x-added': 'zero', connection: 'x-private', 'x-private': 'p', te: 'trailers', 'proxy-authorization': 'Basic x' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['x-resp']).toBe('r');
    expect(r.headers['x-upstream-secret']).toBeUndefined();
    expect(r.headers['x-hop']).toBeUndefined();
    const h = a.received.at(-1)!.headers;
    expect(h['x-set']).toBe('yes');
    expect(h['x-added']).toBe('zero, one');
    expect(h['x-drop']).toBeUndefined();
    expect(h['x-private']).toBeUndefined();
    expect(h['te']).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps an incoming x-request-id', async () => {
    await send(mesh.outbound, { host: 'web', path: '/x', headers: { 'x-request-id': 'abc-123' } });
    expect(a.received.at(-1)!.headers['x-request-id']).toBe('abc-123');
  });
});
