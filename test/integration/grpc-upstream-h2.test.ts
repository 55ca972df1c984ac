// Upstream HTTP/2 connections and stream edges through a real meshlet
// process, with raw node:http2 and @grpc/grpc-js peers: a second connection
// opens at the stream limit (server SETTINGS, or connectionPool.http.
// maxConcurrentStreams), maxRequestsPerConnection rotates connections, a
// connect timeout is UF/503 (UNAVAILABLE for gRPC), request trailers reach
// the upstream, a gRPC stream is never held back after its first message,
// and stream failures and idle timeouts reach gRPC callers as gRPC statuses.
import { connect as h2connect, createServer as createH2Server, type ClientHttp2Session, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream, type Settings } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/meshlet-process.js';
import { echoClient, grpc, startEchoServer, unary, type EchoReply, type EchoServer } from '../support/grpc-echo.js';
import { testScope } from '../support/scope.js';
import { unacceptingListener } from '../support/unaccepting-listener.js';

const scope = testScope();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface H2Upstream {
  readonly port: number;
  readonly sessions: ServerHttp2Session[];
  /** Streams per session, in session order. */
  readonly streamsPer: Map<ServerHttp2Session, number>;
  readonly held: ServerHttp2Stream[];
  readonly trailers: IncomingHttpHeaders[];
}

/** A raw HTTP/2 upstream: `/hold` is answered only by the test; `/trailers` answers after the request's trailers; anything else 200 at once. */
async function h2Upstream(settings: Settings = {}): Promise<H2Upstream> {
  const srv: Http2Server = createH2Server({ settings });
  const up: H2Upstream = { port: 0, sessions: [], streamsPer: new Map(), held: [], trailers: [] };
  srv.on('session', (s: ServerHttp2Session) => {
    up.sessions.push(s);
    up.streamsPer.set(s, 0);
  });
  srv.on('stream', (st: ServerHttp2Stream, h: IncomingHttpHeaders) => {
    const sess = st.session as ServerHttp2Session;
    up.streamsPer.set(sess, (up.streamsPer.get(sess) ?? 0) + 1);
    st.on('error', () => undefined);
    if (h[':path'] === '/hold') return void up.held.push(st);
    if (h[':path'] === '/trailers') {
      st.on('trailers', (t: IncomingHttpHeaders) => up.trailers.push(t));
      st.resume();
      st.on('end', () => {
        if (st.closed || st.destroyed) return;
        st.respond({ ':status': 200 });
        st.end('got');
      });
      return;
    }
    st.respond({ ':status': 200 });
    st.end('ok');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  (up as { port: number }).port = (srv.address() as { port: number }).port;
  cleanups.push(() => new Promise<void>((r) => {
    for (const s of up.sessions) s.destroy();
    srv.close(() => r());
  }));
  return up;
}

function h2Service(port: number, dr = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: h2up }
spec:
  hosts: [h2up]
  resolution: STATIC
  ports: [{ number: 9090, name: http2, protocol: HTTP2 }]
  endpoints: [{ address: 127.0.0.1, ports: { http2: ${port} } }]
---
${dr === '' ? '' : `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: h2up }
spec:
  host: h2up
  trafficPolicy:
${dr}
---
`}`;
}

function caller(port: number): ClientHttp2Session {
  const c = h2connect(`http://127.0.0.1:${port}`);
  c.on('error', () => undefined);
  cleanups.push(() => c.destroy());
  return c;
}

/** One request; resolves with status, flags header and body. */
function get(c: ClientHttp2Session, path: string, headers: Record<string, string> = {}): Promise<{ status: number; flags: string; body: string }> {
  return new Promise((resolve, reject) => {
    const r = c.request({ ':path': path, ':authority': 'h2up:9090', ...headers });
    let status = 0;
    let flags = '';
    let body = '';
    r.on('response', (h) => {
      status = Number(h[':status']);
      flags = String(h['x-meshlet-flags'] ?? '');
    });
    r.setEncoding('utf8');
    r.on('data', (d: string) => (body += d));
    r.on('end', () => resolve({ status, flags, body }));
    r.on('error', reject);
  });
}

/** Opens `n` held streams one after another (each reaches the upstream before the next starts). */
async function holdSequentially(c: ClientHttp2Session, up: H2Upstream, n: number): Promise<Array<Promise<{ status: number }>>> {
  const answers: Array<Promise<{ status: number }>> = [];
  for (let i = 0; i < n; i++) {
    answers.push(get(c, '/hold'));
    await until(() => (up.held.length === i + 1 ? true : undefined));
  }
  return answers;
}

function release(up: H2Upstream): void {
  for (const st of up.held.splice(0)) {
    st.respond({ ':status': 200 });
    st.end('released');
  }
}

describe('upstream HTTP/2 connections', () => {
  it('a second connection opens when the server\'s SETTINGS_MAX_CONCURRENT_STREAMS is reached', async () => {
    const up = await h2Upstream({ maxConcurrentStreams: 2 });
    const m = await scope.meshlet(h2Service(up.port));
    const answers = await holdSequentially(caller(m.outbound), up, 5);
    // 2 + 2 + 1 streams: three connections, none over the server's limit.
    expect(up.sessions).toHaveLength(3);
    expect([...up.streamsPer.values()]).toEqual([2, 2, 1]);
    release(up);
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('connectionPool.http.maxConcurrentStreams caps streams per connection below the server\'s limit', async () => {
    const up = await h2Upstream({ maxConcurrentStreams: 100 });
    const m = await scope.meshlet(h2Service(up.port, '    connectionPool: { http: { maxConcurrentStreams: 1 } }'));
    const answers = await holdSequentially(caller(m.outbound), up, 3);
    expect(up.sessions).toHaveLength(3);
    expect([...up.streamsPer.values()]).toEqual([1, 1, 1]);
    release(up);
    await Promise.all(answers);
  });

  it('maxRequestsPerConnection rotates connections: 6 requests, 2 per connection, 3 connections', async () => {
    const up = await h2Upstream();
    const m = await scope.meshlet(h2Service(up.port, '    connectionPool: { http: { maxRequestsPerConnection: 2 } }'));
    const c = caller(m.outbound);
    for (let i = 0; i < 6; i++) expect((await get(c, '/x')).status).toBe(200);
    expect(up.sessions).toHaveLength(3);
    expect([...up.streamsPer.values()]).toEqual([2, 2, 2]);
    // A retired connection is closed (GOAWAY) once its streams finished.
    await until(() => (up.sessions.slice(0, 2).every((s) => s.closed || s.destroyed) ? true : undefined));
  });

  it('http2MaxRequests bounds concurrent requests to the service: the next one is 503 UO (UNAVAILABLE for gRPC)', async () => {
    const up = await h2Upstream();
    const m = await scope.meshlet(h2Service(up.port, '    connectionPool: { http: { http2MaxRequests: 2 } }'));
    const c = caller(m.outbound);
    const answers = await holdSequentially(c, up, 2);
    const over = await get(c, '/x');
    expect(over.status).toBe(503);
    expect(over.flags).toContain('UO');
    const g = echoClient(m.outbound, 'h2up:9090');
    cleanups.push(() => g.close());
    const err = await unary(g, 'Unary', {}).then(() => undefined, (e: grpc.ServiceError) => e);
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    release(up);
    await Promise.all(answers);
  });

  it('a connect that hangs past connectTimeout is 503 UF, and UNAVAILABLE for a gRPC caller', async () => {
    const l = await unacceptingListener();
    cleanups.push(() => l.close());
    const m = await scope.meshlet(h2Service(l.port, '    connectionPool: { tcp: { connectTimeout: 200ms } }'));
    const r = await get(caller(m.outbound), '/x');
    expect(r.status).toBe(503);
    expect(r.flags).toContain('UF');
    expect(r.body).toMatch(/connect timeout after 200 ms/);
    const g = echoClient(m.outbound, 'h2up:9090');
    cleanups.push(() => g.close());
    const err = await unary(g, 'Unary', {}).then(() => undefined, (e: grpc.ServiceError) => e);
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.details).toMatch(/connect timeout/);
  });
});

describe('HTTP/2 and gRPC stream edges', () => {
  it('request trailers (a gRPC client stream ending with trailers) reach the upstream', async () => {
    const up = await h2Upstream();
    const m = await scope.meshlet(h2Service(up.port));
    const c = caller(m.outbound);
    const status = await new Promise<number>((resolve, reject) => {
      const r = c.request({ ':method': 'POST', ':path': '/trailers', ':authority': 'h2up:9090', 'content-type': 'application/grpc', te: 'trailers' }, { waitForTrailers: true });
      r.on('wantTrailers', () => r.sendTrailers({ 'x-checksum': 'abc123', 'x-count': '3' }));
      r.on('response', (h) => resolve(Number(h[':status'])));
      r.on('error', reject);
      r.resume();
      // Three length-prefixed messages, written one by one (a client stream).
      for (const t of ['a', 'bb', 'ccc']) {
        const msg = Buffer.alloc(5 + t.length);
        msg.writeUInt32BE(t.length, 1);
        msg.write(t, 5);
        r.write(msg);
      }
      r.end();
    });
    expect(status).toBe(200);
    expect(up.trailers).toHaveLength(1);
    expect(up.trailers[0]).toMatchObject({ 'x-checksum': 'abc123', 'x-count': '3' });
  });

  it('with a retry policy on gRPC statuses, a stream\'s first message is not held back waiting for a second', async () => {
    const a = await startEchoServer('a');
    cleanups.push(() => a.close());
    const m = await scope.meshlet(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo }
spec:
  hosts: [echo]
  resolution: STATIC
  ports: [{ number: 9090, name: grpc, protocol: GRPC }]
  endpoints: [{ address: 127.0.0.1, ports: { grpc: ${a.port} } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http: [{ route: [{ destination: { host: echo } }], retries: { attempts: 2, retryOn: unavailable } }]
`);
    const g = echoClient(m.outbound, 'echo:9090') as grpc.Client & Record<string, (r: unknown) => grpc.ClientReadableStream<EchoReply>>;
    cleanups.push(() => g.close());
    // The server sends one message and then holds the stream open (count -1).
    const call = g['ServerStream']!({ text: 'w', count: -1 });
    call.on('error', () => undefined);
    const first = await new Promise<EchoReply>((resolve) => call.once('data', resolve));
    expect(first.text).toBe('w-open');
    call.cancel();
  });

  it('an upstream that dies mid-stream ends the gRPC call with UNAVAILABLE (between messages), not a bare RST', async () => {
    const a = await startEchoServer('a');
    cleanups.push(() => a.kill());
    const m = await scope.meshlet(h2Service(a.port).replace('name: http2, protocol: HTTP2', 'name: grpc, protocol: GRPC').replace('http2: ', 'grpc: '));
    const g = echoClient(m.outbound, 'h2up:9090') as grpc.Client & Record<string, (r: unknown) => grpc.ClientReadableStream<EchoReply>>;
    cleanups.push(() => g.close());
    const call = g['ServerStream']!({ text: 'w', count: -1 });
    const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    await new Promise((resolve) => call.once('data', resolve));
    a.kill();
    const err = await ended;
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toMatch(/upstream reset/);
  });

  it('--stream-idle-timeout: a silent upstream stream ends a gRPC call with UNAVAILABLE "stream idle timeout"; a stalled caller gets grpc-status UNKNOWN (Envoy\'s 408)', async () => {
    const up = await h2Upstream();
    const m = await scope.meshlet(h2Service(up.port), ['--stream-idle-timeout', '300ms']);
    const c = caller(m.outbound);
    const grpcHeaders = { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' };
    // Upstream silent after headers: the response started, so the status comes in trailers.
    const silent = new Promise<{ status: number; trailers: IncomingHttpHeaders }>((resolve, reject) => {
      const r = c.request({ ':path': '/hold', ':authority': 'h2up:9090', ...grpcHeaders }, { endStream: true });
      let status = 0;
      r.on('response', (h) => (status = Number(h[':status'])));
      r.on('trailers', (t) => resolve({ status, trailers: t }));
      r.on('error', reject);
      r.resume();
    });
    await until(() => (up.held.length === 1 ? true : undefined));
    up.held[0]!.respond({ ':status': 200, 'content-type': 'application/grpc' });
    const s = await silent;
    expect(s.status).toBe(200);
    expect(s.trailers).toMatchObject({ 'grpc-status': '14', 'grpc-message': 'stream idle timeout' });
    // A caller that opens a stream and sends nothing more: local reply before any response.
    const stalled = await new Promise<{ status: number; headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders | undefined }>((resolve, reject) => {
      const r = c.request({ ':path': '/trailers', ':authority': 'h2up:9090', ...grpcHeaders });
      let headers: IncomingHttpHeaders = {};
      r.on('response', (h) => (headers = h));
      // The reply is complete at its trailers; the caller never ends its own side (the proxy resets the stream a period later).
      r.on('trailers', (t) => resolve({ status: Number(headers[':status']), headers, trailers: t }));
      r.on('close', () => resolve({ status: Number(headers[':status']), headers, trailers: undefined }));
      r.on('error', reject);
      r.resume();
    });
    expect(stalled.status).toBe(200);
    expect(stalled.headers['x-meshlet-flags']).toBe('SI');
    expect(stalled.trailers).toMatchObject({ 'grpc-status': '2', 'grpc-message': 'stream idle timeout' });
  });
});
