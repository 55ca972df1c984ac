// Upgrades walk the request path: route, fault, header operations, circuit
// breaking, outlier detection, tracing, metrics and the access log all apply
// before the tunnel opens; the method is kept; only `websocket` is upgraded
// unless the route allows more (403 otherwise, like Envoy's upgrade_configs);
// `Upgrade: h2c` is never tunnelled. Real sockets: a raw-socket client (no
// WebSocket library needed for a handshake) and a node:http upstream.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, until, type MeshletProc } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';

const scope = testScope();

interface Seen {
  method: string;
  headers: IncomingHttpHeaders;
}

interface WsUpstream {
  readonly port: number;
  readonly upgrades: Seen[];
  readonly plain: Seen[];
}

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const srv of servers.splice(0)) {
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

/** An upstream that accepts upgrades with 101 (or `refuse` status) and echoes tunnel bytes. */
async function wsUpstream(refuse = 0): Promise<WsUpstream> {
  const up: WsUpstream = { port: 0, upgrades: [], plain: [] };
  const srv = createServer((req, res) => {
    up.plain.push({ method: req.method ?? '', headers: req.headers });
    res.end('plain');
  });
  srv.on('upgrade', (req, socket: Socket) => {
    up.upgrades.push({ method: req.method ?? '', headers: req.headers });
    sockets.push(socket);
    if (refuse > 0) {
      socket.end(`HTTP/1.1 ${refuse} Nope\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\n\r\n`);
    socket.on('data', (d) => socket.write(`echo:${d.toString()}`));
    // As WebSocket servers do: the peer's FIN closes the connection (node:http keeps upgraded sockets half-open).
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  servers.push(srv);
  (up as { port: number }).port = (srv.address() as AddressInfo).port;
  return up;
}

interface Handshake {
  readonly status: number;
  readonly head: string;
  readonly socket: Socket;
  /** Everything read so far (head included). */
  text(): string;
}

/** Sends an upgrade request on a raw socket and waits for the response head. */
async function handshake(port: number, opts: { method?: string; upgrade?: string; headers?: string; body?: string } = {}): Promise<Handshake> {
  const s = connect(port, '127.0.0.1');
  sockets.push(s);
  let got = '';
  s.on('data', (d) => (got += d.toString()));
  s.on('error', () => undefined);
  const body = opts.body ?? '';
  s.write(
    `${opts.method ?? 'GET'} /chat HTTP/1.1\r\nHost: ws\r\nUpgrade: ${opts.upgrade ?? 'websocket'}\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${opts.headers ?? ''}` +
      (body !== '' ? `Content-Length: ${body.length}\r\n` : '') +
      `\r\n${body}`,
  );
  await until(() => got.includes('\r\n\r\n') || undefined, 15_000, 10);
  const head = got.slice(0, got.indexOf('\r\n\r\n'));
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head: head.toLowerCase(), socket: s, text: () => got };
}

async function echo(h: Handshake, msg: string): Promise<void> {
  h.socket.write(msg);
  await until(() => h.text().includes(`echo:${msg}`) || undefined, 5000, 10);
}

function vs(route: string, annotations = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ws
${annotations !== '' ? `  annotations: { ${annotations} }\n` : ''}spec:
  hosts: [ws]
  http:
    - route: [{ destination: { host: ws } }]
${route}`;
}

function dr(policy: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ws }
spec:
  host: ws
  trafficPolicy: ${policy}
---
`;
}

async function scrape(m: MeshletProc): Promise<string> {
  return (await send(m.metrics, { path: '/stats/prometheus' })).body;
}

describe('upgrades go through the request path', () => {
  it('applies header operations, keeps the method, traces, and records request_protocol="websocket" in metrics and the access log', async () => {
    const up = await wsUpstream();
    const log = join(mkdtempSync(join(tmpdir(), 'meshlet-ws-')), 'access.log');
    const m = await scope.meshlet(
      serviceEntry('ws', [up.port]) +
        vs('      headers: { request: { set: { x-added: "yes" }, remove: [x-secret] }, response: { set: { x-resp: r1 } } }\n'),
      ['--access-log', log],
    );
    const h = await handshake(m.outbound, { method: 'POST', headers: 'x-secret: s3\r\n' });
    expect(h.status).toBe(101);
    expect(h.head).toContain('x-resp: r1');
    expect(h.head).toContain('upgrade: websocket');
    const seen = up.upgrades[0]!;
    expect(seen.method).toBe('POST');
    expect(seen.headers['x-added']).toBe('yes');
    expect(seen.headers['x-secret']).toBeUndefined();
    expect(seen.headers['x-request-id']).toBeTruthy();
    expect(seen.headers['x-b3-traceid']).toBeTruthy();
    await echo(h, 'hello');
    h.socket.destroy();
    // Recorded when the tunnel closes, as one exchange.
    const text = await until(async () => {
      const t = await scrape(m);
      return /istio_requests_total\{[^}]*request_protocol="websocket"[^}]*response_code="101"[^}]*\} 1/.test(t) ? t : undefined;
    });
    expect(text).toMatch(/istio_request_bytes_sum\{[^}]*request_protocol="websocket"[^}]*\} [1-9]/);
    const line = await until(() => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').find((l) => l.includes('"protocol":"websocket"')) : undefined));
    expect(line).toContain('"response_code":101');
    expect(line).toContain('"method":"POST"');
  });

  it('an injected abort answers the upgrade and the upstream never sees it', async () => {
    const up = await wsUpstream();
    const m = await scope.meshlet(serviceEntry('ws', [up.port]) + vs('      fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }\n'));
    const h = await handshake(m.outbound);
    expect(h.status).toBe(503);
    expect(h.head).toContain('x-meshlet-flags: fi');
    expect(up.upgrades.length).toBe(0);
  });

  it('refuses protocols the route does not enable with 403; h2c is never tunnelled', async () => {
    const up = await wsUpstream();
    const m = await scope.meshlet(serviceEntry('ws', [up.port]) + vs(''));
    expect((await handshake(m.outbound, { upgrade: 'spdy/3.1' })).status).toBe(403);
    // A POST asking for h2c with a body: node stopped parsing at the head, the request cannot be served.
    expect((await handshake(m.outbound, { method: 'POST', upgrade: 'h2c', headers: 'HTTP2-Settings: AAMAAABkAAQAAP__\r\n', body: 'abc' })).status).toBe(403);
    expect(up.upgrades.length).toBe(0);
    // Bodiless h2c (curl --http2 on http://): the upgrade is ignored and the request served over HTTP/1.1, as Envoy does.
    const plain = await handshake(m.outbound, { upgrade: 'h2c', headers: 'HTTP2-Settings: AAMAAABkAAQAAP__\r\n' });
    expect(plain.status).toBe(200);
    await until(() => plain.text().endsWith('plain') || undefined, 5000, 10);
    expect(up.plain[0]!.headers.upgrade).toBeUndefined();
    expect(up.upgrades.length).toBe(0);
  });

  it('a VirtualService annotation enables another upgrade protocol', async () => {
    const up = await wsUpstream();
    const m = await scope.meshlet(serviceEntry('ws', [up.port]) + vs('', '"meshlet.io/upgrade-types": "websocket, spdy/3.1"'));
    const h = await handshake(m.outbound, { upgrade: 'spdy/3.1' });
    expect(h.status).toBe(101);
    expect(up.upgrades[0]!.headers.upgrade).toBe('spdy/3.1');
    await echo(h, 'x');
  });

  it('an open tunnel counts against http2MaxRequests: the next upgrade gets 503 UO until it closes', async () => {
    const up = await wsUpstream();
    const m = await scope.meshlet(serviceEntry('ws', [up.port]) + dr('{ connectionPool: { http: { http2MaxRequests: 1 } } }') + vs(''));
    const first = await handshake(m.outbound);
    expect(first.status).toBe(101);
    const over = await handshake(m.outbound);
    expect(over.status).toBe(503);
    expect(over.head).toContain('x-meshlet-flags: uo');
    first.socket.destroy();
    const again = await until(async () => {
      const h = await handshake(m.outbound);
      return h.status === 101 ? h : undefined;
    });
    expect(again.status).toBe(101);
  });

  it('outlier detection counts refused upgrades and ejects the endpoint', async () => {
    const up = await wsUpstream(502);
    const m = await scope.meshlet(
      serviceEntry('ws', [up.port]) +
        dr('{ outlierDetection: { consecutive5xxErrors: 2, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 100 } }') +
        vs('      retries: { attempts: 0 }\n'),
    );
    expect((await handshake(m.outbound)).status).toBe(502);
    expect((await handshake(m.outbound)).status).toBe(502);
    const ejected = await handshake(m.outbound);
    expect(ejected.status).toBe(503);
    expect(ejected.head).toContain('x-meshlet-flags: uh');
    expect(up.upgrades.length).toBe(2);
  });
});
