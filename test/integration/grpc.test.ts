// HTTP/2 and gRPC through real meshlet processes with real @grpc/grpc-js
// clients and servers (test/fixtures/echo.proto): every call shape, routing
// by method, splits, per-call balancing, gRPC-aware retries, deadlines,
// faults, header operations and mirroring, through one sidecar (outbound) and
// two (outbound → inbound).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/meshlet-process.js';
import { echoClient, grpc, startEchoServer, unary, type EchoReply, type EchoServer } from '../support/grpc-echo.js';
import { testScope } from '../support/scope.js';
import { send } from '../support/http-client.js';

const scope = testScope();
const servers: EchoServer[] = [];
const clients: grpc.Client[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function echo(name: string): Promise<EchoServer> {
  const s = await startEchoServer(name);
  servers.push(s);
  return s;
}
function client(port: number, authority = 'echo:9090'): grpc.Client {
  const c = echoClient(port, authority);
  clients.push(c);
  return c;
}

/** A GRPC ServiceEntry `host`:9090 whose endpoints are the given servers (labels version=<server name>). */
function grpcService(host: string, eps: EchoServer[]): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  resolution: STATIC
  ports: [{ number: 9090, name: grpc, protocol: GRPC }]
  endpoints:
${eps.map((e) => `    - { address: 127.0.0.1, ports: { grpc: ${e.port} }, labels: { app: ${host}, version: ${e.name} } }`).join('\n')}
---
`;
}
const RR = (host: string, extra = ''): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
${extra}---
`;

function countBy(replies: EchoReply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) out[r.server] = (out[r.server] ?? 0) + 1;
  return out;
}

describe('gRPC through the outbound sidecar', () => {
  it('unary call over h2c prior knowledge, per-call round robin 100/100/100 from one channel', async () => {
    const [a, b, c] = await Promise.all([echo('a'), echo('b'), echo('c')]);
    const m = await scope.meshlet(grpcService('echo', [a, b, c]) + RR('echo'));
    const cl = client(m.outbound);
    const replies: EchoReply[] = [];
    for (let i = 0; i < 300; i++) replies.push(await unary(cl, 'Unary', { text: `m${i}` }));
    expect(replies[7]!.text).toBe('m7');
    expect(countBy(replies)).toEqual({ a: 100, b: 100, c: 100 });
  });

  it('server streaming, client streaming and bidi calls keep every message and their order', async () => {
    const a = await echo('a');
    const m = await scope.meshlet(grpcService('echo', [a]));
    const cl = client(m.outbound) as grpc.Client & Record<string, (...x: unknown[]) => grpc.ClientReadableStream<EchoReply>>;
    // server streaming: 2,000 messages, read as they come (backpressure through the proxy both ways)
    const got: string[] = [];
    await new Promise<void>((res, rej) => {
      const call = cl['ServerStream']!({ text: 's', count: 2000 }) as grpc.ClientReadableStream<EchoReply>;
      call.on('data', (r: EchoReply) => got.push(r.text));
      call.on('error', rej);
      call.on('end', () => res());
    });
    expect(got.length).toBe(2000);
    expect(got[1999]).toBe('s-1999');
    // client streaming
    const joined = await new Promise<EchoReply>((res, rej) => {
      const call = (cl['ClientStream'] as unknown as (cb: (e: Error | null, v: EchoReply) => void) => grpc.ClientWritableStream<unknown>)((e, v) => (e ? rej(e) : res(v)));
      for (let i = 0; i < 50; i++) call.write({ text: `c${i}`, count: 0 });
      call.end();
    });
    expect(joined.text.split(',')).toHaveLength(50);
    expect(joined.text.startsWith('c0,c1,c2')).toBe(true);
    // bidi: each answer arrives before the next message is sent (no buffering of the request stream)
    const call = (cl['Bidi'] as unknown as () => grpc.ClientDuplexStream<unknown, EchoReply>)();
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) {
      const next = new Promise<EchoReply>((res) => call.once('data', res));
      call.write({ text: `b${i}`, count: 0 });
      answers.push((await next).text);
    }
    call.end();
    await new Promise<void>((res) => call.on('end', () => res()).resume());
    expect(answers[19]).toBe('B19');
    expect(answers).toHaveLength(20);
  });

  it('routes by method (:path) and splits 80/20 by call count', async () => {
    const [v1, v2, other] = await Promise.all([echo('v1'), echo('v2'), echo('other')]);
    const m = await scope.meshlet(
      grpcService('echo', [v1, v2, other]) +
        `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo }
spec:
  host: echo
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
    - { name: other, labels: { version: other } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:
    - match: [{ uri: { exact: /meshlet.test.Echo/Other } }]
      route: [{ destination: { host: echo, subset: other } }]
    - route:
        - { destination: { host: echo, subset: v1 }, weight: 80 }
        - { destination: { host: echo, subset: v2 }, weight: 20 }
`,
    );
    const cl = client(m.outbound);
    const replies: EchoReply[] = [];
    for (let i = 0; i < 100; i++) replies.push(await unary(cl, 'Unary', {}));
    expect(countBy(replies)).toEqual({ v1: 80, v2: 20 });
    const others: EchoReply[] = [];
    for (let i = 0; i < 10; i++) others.push(await unary(cl, 'Other', {}));
    expect(countBy(others)).toEqual({ other: 10 });
  });

  it('retries UNAVAILABLE in trailers (and trailers-only) on another endpoint; the caller never sees it', async () => {
    const [bad, good] = await Promise.all([echo('bad'), echo('good')]);
    bad.fail = (n) => ({ code: grpc.status.UNAVAILABLE, inTrailers: n % 2 === 1, message: 'going away' });
    const m = await scope.meshlet(
      grpcService('echo', [bad, good]) +
        RR('echo') +
        `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:
    - route: [{ destination: { host: echo } }]
      retries: { attempts: 2, retryOn: unavailable }
`,
    );
    const cl = client(m.outbound);
    const replies: EchoReply[] = [];
    for (let i = 0; i < 10; i++) replies.push(await unary(cl, 'Unary', { text: `r${i}` }));
    expect(countBy(replies)).toEqual({ good: 10 });
    expect(replies.map((r) => r.text)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    // both forms were met: status after response headers (odd calls) and trailers-only (even)
    expect(bad.calls.length).toBeGreaterThanOrEqual(2);
    // a status not in retryOn passes through unchanged, with its message
    good.fail = () => ({ code: grpc.status.NOT_FOUND, inTrailers: true, message: 'no such thing' });
    bad.fail = good.fail;
    const err = await unary(cl, 'Unary', {}).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    expect((err as grpc.ServiceError).details).toBe('no such thing');
  });

  it('honours grpc-timeout: DEADLINE_EXCEEDED as a gRPC local reply (UT), even without a route timeout', async () => {
    const slow = await echo('slow');
    slow.delayMs = 3000;
    const m = await scope.meshlet(grpcService('echo', [slow]));
    // A raw HTTP/2 client: it sends grpc-timeout but, unlike grpc-js, does not enforce it itself.
    const r = await rawGrpc(m.outbound, { 'grpc-timeout': '300m' });
    expect(r.headers[':status']).toBe(200);
    expect(r.headers['x-meshlet-flags']).toBe('UT');
    expect(r.trailers['grpc-status']).toBe('4');
    expect(r.ms).toBeLessThan(2500);
    // and with grpc-js: the call fails with DEADLINE_EXCEEDED
    const cl = client(m.outbound);
    const err = await unary(cl, 'Unary', {}, new grpc.Metadata(), { deadline: Date.now() + 300 }).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it('fault.abort.grpcStatus answers gRPC callers with that status', async () => {
    const a = await echo('a');
    const m = await scope.meshlet(
      grpcService('echo', [a]) +
        `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:
    - route: [{ destination: { host: echo } }]
      fault: { abort: { grpcStatus: RESOURCE_EXHAUSTED, percentage: { value: 50 } } }
`,
    );
    const cl = client(m.outbound);
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) codes.push(await unary(cl, 'Unary', {}).then(() => 0, (e: grpc.ServiceError) => e.code));
    expect(codes.filter((c) => c === grpc.status.RESOURCE_EXHAUSTED)).toHaveLength(5);
    expect(codes.filter((c) => c === 0)).toHaveLength(5);
    expect(a.calls).toHaveLength(5);
  });

  it('header operations are gRPC metadata both ways; no healthy upstream is UNAVAILABLE', async () => {
    const a = await echo('a');
    const m = await scope.meshlet(
      grpcService('echo', [a]) +
        `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:
    - route: [{ destination: { host: echo } }]
      headers:
        request: { set: { x-tenant: blue }, remove: [x-secret] }
        response: { add: { x-served-by: mesh } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: gone }
spec:
  hosts: [gone]
  resolution: STATIC
  ports: [{ number: 9090, name: grpc-api }]
  endpoints: []
`,
    );
    const cl = client(m.outbound);
    const md = new grpc.Metadata();
    md.set('x-secret', 's3cret');
    md.set('x-keep', 'k');
    const got = await new Promise<{ reply: EchoReply; meta: grpc.Metadata }>((res, rej) => {
      let meta = new grpc.Metadata();
      const call = (cl as unknown as Record<string, (r: unknown, m: grpc.Metadata, cb: (e: Error | null, v: EchoReply) => void) => grpc.ClientUnaryCall>)['Unary']!(
        { text: 'h' },
        md,
        (e, v) => (e ? rej(e) : res({ reply: v, meta })),
      );
      call.on('metadata', (x: grpc.Metadata) => (meta = x));
    });
    expect(got.reply.metadata['x-tenant']).toBe('blue');
    expect(got.reply.metadata['x-keep']).toBe('k');
    expect(got.reply.metadata['x-secret']).toBeUndefined();
    expect(got.meta.get('x-served-by')).toEqual(['mesh']);
    const err = await unary(client(m.outbound, 'gone:9090'), 'Unary', {}).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
    expect((err as grpc.ServiceError).details).toContain('no healthy upstream');
  });

  it('mirrors unary calls to the shadow service', async () => {
    const [a, shadow] = await Promise.all([echo('a'), echo('shadow')]);
    const m = await scope.meshlet(
      grpcService('echo', [a]) +
        grpcService('echo-shadow', [shadow]) +
        `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:
    - route: [{ destination: { host: echo } }]
      mirror: { host: echo-shadow }
      retries: { attempts: 0 }
`,
    );
    const cl = client(m.outbound);
    for (let i = 0; i < 5; i++) await unary(cl, 'Unary', { text: `m${i}` });
    await until(() => (shadow.calls.length === 5 ? true : undefined));
    expect(shadow.calls.map((c) => c.method)).toEqual(['Unary', 'Unary', 'Unary', 'Unary', 'Unary']);
    expect(a.calls).toHaveLength(5);
  });

  it('a cancelled call (RST_STREAM) cancels the upstream stream', async () => {
    const a = await echo('a');
    const m = await scope.meshlet(grpcService('echo', [a]));
    const cl = client(m.outbound) as grpc.Client & Record<string, (...x: unknown[]) => grpc.ClientReadableStream<EchoReply>>;
    const call = cl['ServerStream']!({ text: 'forever', count: -1 }) as grpc.ClientReadableStream<EchoReply>;
    call.on('error', () => undefined);
    await until(() => (a.calls.length === 1 ? true : undefined));
    call.cancel();
    await until(() => (a.cancelled === 1 ? true : undefined));
  });
});

describe('gRPC observability', () => {
  it('istio_requests_total with request_protocol="grpc" and grpc_response_status, message counters, access log grpc_status', async () => {
    const a = await echo('a');
    a.fail = (_n, method) => (method === 'Other' ? { code: grpc.status.UNAVAILABLE, inTrailers: true, message: 'down' } : undefined);
    const logDir = mkdtempSync(join(tmpdir(), 'meshlet-grpc-log-'));
    const logFile = join(logDir, 'access.log');
    const m = await scope.meshlet(grpcService('echo', [a]), ['--access-log', logFile]);
    const cl = client(m.outbound) as grpc.Client & Record<string, (...x: unknown[]) => grpc.ClientReadableStream<EchoReply>>;
    for (let i = 0; i < 3; i++) await unary(cl, 'Unary', {});
    await unary(cl, 'Other', {}).catch(() => undefined);
    await new Promise<void>((res, rej) => {
      const call = cl['ServerStream']!({ text: 's', count: 7 }) as grpc.ClientReadableStream<EchoReply>;
      call.on('data', () => undefined);
      call.on('error', rej);
      call.on('end', () => res());
    });
    const text = await until(async () => {
      const t = (await send(m.metrics, { path: '/stats/prometheus' })).body;
      return /istio_requests_total\{[^}]*grpc_response_status="14"/.test(t) ? t : undefined;
    });
    const value = (metric: string, ...labels: string[]): number => {
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(metric + '{')) continue;
        if (labels.every((l) => line.includes(l))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    };
    const grpcOk = ['request_protocol="grpc"', 'grpc_response_status="0"', 'response_code="200"'];
    expect(value('istio_requests_total', ...grpcOk)).toBe(4); // 3 unary + 1 stream
    expect(value('istio_requests_total', 'request_protocol="grpc"', 'grpc_response_status="14"')).toBe(1);
    expect(value('istio_request_messages_total', ...grpcOk)).toBe(4);
    expect(value('istio_response_messages_total', ...grpcOk)).toBe(3 + 7);
    const lines = await until(() => {
      const l = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean) : [];
      return l.length >= 5 ? l.map((x) => JSON.parse(x) as { path: string; protocol: string; grpc_status: number | null }) : undefined;
    });
    const other = lines.find((l) => l.path === '/meshlet.test.Echo/Other')!;
    expect(other.protocol).toBe('grpc');
    expect(other.grpc_status).toBe(14);
  });
});

describe('gRPC through two sidecars (outbound → inbound)', () => {
  it('every call shape and per-call balancing across two inbound sidecars', async () => {
    const [a, b] = await Promise.all([echo('a'), echo('b')]);
    const [ia, ib] = await Promise.all([scope.meshlet('', ['--app-port', String(a.port)]), scope.meshlet('', ['--app-port', String(b.port)])]);
    const fakeA = { ...a, port: ia.inbound } as EchoServer;
    const fakeB = { ...b, port: ib.inbound } as EchoServer;
    const m = await scope.meshlet(grpcService('echo', [fakeA, fakeB]) + RR('echo'));
    const cl = client(m.outbound) as grpc.Client & Record<string, (...x: unknown[]) => grpc.ClientReadableStream<EchoReply>>;
    const replies: EchoReply[] = [];
    for (let i = 0; i < 20; i++) replies.push(await unary(cl, 'Unary', {}));
    expect(countBy(replies)).toEqual({ a: 10, b: 10 });
    const got: string[] = [];
    await new Promise<void>((res, rej) => {
      const call = cl['ServerStream']!({ text: 's', count: 500 }) as grpc.ClientReadableStream<EchoReply>;
      call.on('data', (r: EchoReply) => got.push(r.text));
      call.on('error', rej);
      call.on('end', () => res());
    });
    expect(got).toHaveLength(500);
    const call = (cl['Bidi'] as unknown as () => grpc.ClientDuplexStream<unknown, EchoReply>)();
    const next = new Promise<EchoReply>((res) => call.once('data', res));
    call.write({ text: 'x', count: 0 });
    expect((await next).text).toBe('X');
    call.end();
    // the inbound sidecar spoke HTTP/2 to the app (the caller's protocol)
    expect(a.calls.length + b.calls.length).toBe(22);
  });
});

describe('HTTP/2 and HTTP/1.1 translation', () => {
  it('an HTTP/1.1 caller reaches an HTTP2 service over HTTP/2; an h2c caller reaches an HTTP/1.1 service', async () => {
    const up = await upstreamH2();
    const h1 = await scope.upstream('h1');
    const m = await scope.meshlet(
      `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: h2svc }
spec:
  hosts: [h2svc]
  resolution: STATIC
  ports: [{ number: 80, name: http2-web }]
  endpoints: [{ address: 127.0.0.1, ports: { http2-web: ${up.port} } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: h1svc }
spec:
  hosts: [h1svc]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${h1.port} } }]
`,
    );
    const r1 = await send(m.outbound, { host: 'h2svc', path: '/up' });
    expect(r1.status).toBe(200);
    expect(r1.body).toBe('h2 GET /up');
    const r2 = await rawH2(m.outbound, { ':path': '/down', ':authority': 'h1svc' });
    expect(r2.headers[':status']).toBe(200);
    expect(h1.received[0]!.url).toBe('/down');
    expect(h1.received[0]!.headers['host']).toBe('h1svc');
    await up.close();
  });

  it('Upgrade: h2c is not honoured: served as HTTP/1.1', async () => {
    const h1 = await scope.upstream('h1');
    const m = await scope.meshlet(
      `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: h1svc }
spec:
  hosts: [h1svc]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${h1.port} } }]
`,
    );
    const { request } = await import('node:http');
    const res = await new Promise<{ status: number; upgrade: string | undefined }>((resolve, reject) => {
      const req = request({ port: m.outbound, host: '127.0.0.1', path: '/u', headers: { host: 'h1svc', connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQCAAAAAAIAAAAA' } });
      req.on('response', (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, upgrade: r.headers.upgrade });
      });
      req.on('upgrade', () => reject(new Error('switched protocols')));
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(200);
    expect(res.upgrade).toBeUndefined();
    expect(h1.received[0]!.headers['upgrade']).toBeUndefined();
  });
});

describe('HTTP/2 limits', () => {
  it('--h2-max-concurrent-streams and --h2-initial-window are what the listener advertises in SETTINGS', async () => {
    const m = await scope.meshlet('', ['--h2-max-concurrent-streams', '7', '--h2-initial-window', '131072']);
    const session = h2connect(`http://127.0.0.1:${m.outbound}`);
    try {
      const settings = await new Promise<{ maxConcurrentStreams?: number; initialWindowSize?: number }>((res, rej) => {
        session.once('remoteSettings', res);
        session.once('error', rej);
      });
      expect(settings.maxConcurrentStreams).toBe(7);
      expect(settings.initialWindowSize).toBe(131072);
    } finally {
      session.destroy();
    }
  });
});

// ---------------------------------------------------------------- raw HTTP/2 helpers

interface RawReply {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

function rawH2(port: number, headers: Record<string, string>, body?: Buffer): Promise<RawReply> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const session = h2connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': body ? 'POST' : 'GET', ...headers }, { endStream: body === undefined });
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (head = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ headers: head, trailers, body: Buffer.concat(chunks), ms: Date.now() - t0 });
    });
    req.on('error', reject);
    if (body) req.end(body);
  });
}

/** A unary Echo call framed by hand (5-byte gRPC prefix, empty message). */
function rawGrpc(port: number, extra: Record<string, string>): Promise<RawReply> {
  return rawH2(port, { ':path': '/meshlet.test.Echo/Unary', ':authority': 'echo:9090', 'content-type': 'application/grpc', te: 'trailers', ...extra }, Buffer.from([0, 0, 0, 0, 0]));
}

async function upstreamH2(): Promise<{ port: number; close(): Promise<void> }> {
  const { createServer } = await import('node:http2');
  const srv = createServer((req, res) => res.end(`h2 ${req.method} ${req.url}`));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as { port: number }).port, close: () => new Promise<void>((r) => srv.close(() => r())) };
}
