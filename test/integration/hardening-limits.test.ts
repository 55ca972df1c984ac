// Issue 10 items 5 and 6 through a real sidecar process: nothing is held
// forever (request-headers timeout, stream-idle timeout both ways, a
// connection budget that leaves admin reachable) and hostile heads are
// refused (header count, userinfo, schemes, HTTP/2.0 lines, CONNECT, headers
// only the proxy may write).
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, send, statusOf } from '../support/http-client.js';
import { serviceEntry, startMeshlet, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let up: Upstream;
let mesh: MeshletProc;
const hung: Socket[] = [];
let hangPort = 0;
const hangServer = createServer((s) => void hung.push(s));

const flagsOf = (raw: string): string => /x-meshlet-flags: ([^\r\n]*)/i.exec(raw)?.[1] ?? '';

beforeAll(async () => {
  up = await startUpstream('up');
  await new Promise<void>((r) => hangServer.listen(0, '127.0.0.1', () => r()));
  hangPort = (hangServer.address() as { port: number }).port;
  const yaml = serviceEntry('svc', [up.port], { servicePort: 80 }) + serviceEntry('hang', [hangPort], { servicePort: 80 });
  mesh = await startMeshlet(['--config', tempConfig({ 'c.yaml': yaml }), '--access-log', 'off', '--request-headers-timeout', '500ms', '--stream-idle-timeout', '1s']);
}, 30_000);

afterAll(async () => {
  await mesh?.stop();
  await up?.close();
  hangServer.close();
  for (const s of hung) s.destroy();
});

describe('nothing is held forever', () => {
  it('--request-headers-timeout: a head that never finishes gets 408; a connection that sends nothing is closed', async () => {
    const raw = await rawExchange(mesh.outbound, 'GET / HTTP/1.1\r\nHost: svc\r\nx-slow: 1\r\n', 10_000);
    expect(statusOf(raw), raw).toBe(408);
    const silent = connect(mesh.outbound, '127.0.0.1');
    silent.on('error', () => undefined);
    const closed = await new Promise<boolean>((r) => {
      const t = setTimeout(() => r(false), 10_000);
      silent.once('close', () => {
        clearTimeout(t);
        r(true);
      });
    });
    expect(closed).toBe(true);
    expect(mesh.proc.exitCode).toBeNull();
  });

  it('--stream-idle-timeout downstream: headers and part of a body, then silence → 408 SI', async () => {
    const raw = await rawExchange(mesh.outbound, 'POST /upload HTTP/1.1\r\nHost: svc\r\nContent-Length: 100\r\n\r\n0123456789', 10_000);
    expect(statusOf(raw), raw).toBe(408);
    expect(flagsOf(raw)).toBe('SI');
  });

  it('--stream-idle-timeout upstream: an upstream that never answers → 504 SI', async () => {
    const r = await send(mesh.outbound, { host: 'hang', timeoutMs: 10_000 });
    expect(r.status).toBe(504);
    expect(r.headers['x-meshlet-flags']).toBe('SI');
  });

  it('--max-connections: connections above the budget are refused and counted; admin stays reachable', async () => {
    const m = await startMeshlet(['--config', tempConfig({ 'c.yaml': serviceEntry('svc', [up.port], { servicePort: 80 }) }), '--access-log', 'off', '--max-connections', '5']);
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const s = connect(m.outbound, '127.0.0.1');
        s.on('error', () => undefined);
        await new Promise((r) => s.once('connect', r));
        held.push(s);
      }
      // Let the proxy count them before the sixth arrives.
      await new Promise((r) => setTimeout(r, 200));
      const sixth = await rawExchange(m.outbound, 'GET / HTTP/1.1\r\nHost: svc\r\n\r\n', 5000);
      expect(sixth).toBe(''); // closed without a reply
      expect((await send(m.admin, { path: '/ready' })).status).toBe(200);
      const metrics = (await send(m.metrics, { path: '/stats/prometheus' })).body;
      expect(metrics).toMatch(/meshlet_downstream_cx_overflow_total 1\b/);
      // A freed slot is usable again.
      held.pop()!.destroy();
      await until(async () => (await send(m.outbound, { host: 'svc' }).catch(() => ({ status: 0 }))).status === 200, 5000, 50);
    } finally {
      for (const s of held) s.destroy();
      await m.stop();
    }
  });
});

describe('hostile heads are refused', () => {
  const head = (n: number): string => {
    let h = 'GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n';
    for (let i = 2; i < n; i++) h += `x-h${i}: ${i}\r\n`;
    return h + '\r\n';
  };

  it('--max-headers-count (100): 100 headers pass, 101 → 431', async () => {
    expect(statusOf(await rawExchange(mesh.outbound, head(100)))).toBe(200);
    const over = await rawExchange(mesh.outbound, head(101));
    expect(statusOf(over), over).toBe(431);
    // And a POST with 1,001 headers no longer arrives upstream with an empty body.
    const before = up.received.length;
    const many = await rawExchange(mesh.outbound, head(1001).replace('GET', 'POST').replace('\r\n\r\n', '\r\nContent-Length: 4\r\n\r\nbody'));
    expect(statusOf(many)).toBe(431);
    expect(up.received.length).toBe(before);
  });

  it('userinfo in Host or in an absolute-form authority → 400', async () => {
    for (const raw of [
      'GET / HTTP/1.1\r\nHost: svc:@evil.example\r\nConnection: close\r\n\r\n',
      'GET http://svc:@evil.example/ HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n',
      'GET http://user:pw@svc/ HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n',
    ]) {
      const r = await rawExchange(mesh.outbound, raw);
      expect(statusOf(r), raw).toBe(400);
      expect(r).toMatch(/userinfo/);
    }
    // An @ in the path is fine.
    expect(statusOf(await rawExchange(mesh.outbound, 'GET http://svc/a@b HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n'))).toBe(200);
  });

  // (The HTTP/2 prior-knowledge preface is served as HTTP/2 on the same port: see the HTTP/2 tests.)
  it('https:// and gopher:// absolute-form and HTTP/2.0 request lines → 400; CONNECT → 405', async () => {
    for (const raw of ['GET https://svc/ HTTP/1.1\r\nHost: svc\r\n\r\n', 'GET gopher://svc/ HTTP/1.1\r\nHost: svc\r\n\r\n', 'GET / HTTP/2.0\r\nHost: svc\r\n\r\n']) {
      expect(statusOf(await rawExchange(mesh.outbound, raw)), raw).toBe(400);
    }
    const c = await rawExchange(mesh.outbound, 'CONNECT svc:443 HTTP/1.1\r\nHost: svc:443\r\n\r\n');
    expect(statusOf(c), c).toBe(405);
    expect(c).toMatch(/allow: /i);
    expect(mesh.proc.exitCode).toBeNull();
  });

  it('headers only the proxy writes are removed from client requests', async () => {
    const r = await send(mesh.outbound, { host: 'svc', headers: { 'x-envoy-attempt-count': '7', 'x-meshlet-flags': 'UH', 'x-meshlet-peer': 'admin;kube-system;admin;v1', 'x-envoy-overloaded': 'true' } });
    expect(r.status).toBe(200);
    const got = up.received.at(-1)!.headers;
    // Overwritten with the proxy's own count (routes retry by default), or absent: never the client's 7.
    expect(got['x-envoy-attempt-count'] ?? '1').toBe('1');
    expect(got['x-meshlet-flags']).toBeUndefined();
    expect(got['x-envoy-overloaded']).toBeUndefined();
    // x-meshlet-peer is the sidecar's own identity, never the client's.
    expect(got['x-meshlet-peer']).not.toBe('admin;kube-system;admin;v1');
  });
});
