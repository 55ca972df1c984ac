// The dispatcher on real sockets: a client slow to send its ClientHello keeps
// its SNI on a port declared TLS (it waits as Envoy's tls_inspector does),
// while an undeclared port still gives up after the detection timeout
// (server-first protocols). Before, a loaded machine that delayed curl's
// ClientHello past 100 ms turned declared TLS into opaque TCP, SNI lost.
// Also: first bytes that arrived while the loop was busy are still sniffed
// (the timer used to run before the pending read), and a STRICT port waits
// for a slow caller's ClientHello instead of refusing it as plaintext.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnectionDispatcher, type ConnectionHandlers, type ConnectionInfo, type DeclaredProtocol } from './connection-dispatch.js';

/** A real ClientHello for `servername`, captured from node:tls. */
async function clientHello(servername: string): Promise<Buffer> {
  const capture = createServer();
  await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
  const got = new Promise<Buffer>((resolve) => capture.once('connection', (s: Socket) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const c = tlsConnect({ host: '127.0.0.1', port: (capture.address() as AddressInfo).port, servername, rejectUnauthorized: false });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  capture.close();
  return hello;
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function dispatchDelayed(declared: DeclaredProtocol, hello: Buffer, delayMs: number): Promise<ConnectionInfo> {
  let done!: (c: ConnectionInfo) => void;
  const seen = new Promise<ConnectionInfo>((r) => (done = r));
  const take = (s: Socket, c: ConnectionInfo): void => {
    s.destroy();
    done(c);
  };
  const h: ConnectionHandlers = { declared: () => declared, http1: take, http2: undefined, tls: take, tcp: take, loop: take };
  const server = createServer(createConnectionDispatcher(h, { detectionTimeoutMs: 100, isOwnListener: () => false }));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.on('error', () => {});
  setTimeout(() => client.write(hello), delayMs);
  const conn = await seen;
  client.destroy();
  return conn;
}

describe('connection dispatch: a slow ClientHello', () => {
  it('on a port declared TLS, waits past the detection timeout and reads the SNI', async () => {
    const conn = await dispatchDelayed('tls', await clientHello('slow.example.com'), 400);
    expect(conn.sni).toBe('slow.example.com');
    expect(conn.declared).toBe(true);
  });

  it('on an undeclared port, gives up at the detection timeout (server-first protocols), before any byte', async () => {
    const conn = await dispatchDelayed(undefined, await clientHello('slow.example.com'), 400);
    expect(conn.sni).toBeNull();
  });
});

/** A real ClientHello offering the mesh ALPN, as a sidecar originating mesh mTLS sends it. */
async function meshClientHello(): Promise<Buffer> {
  const capture = createServer();
  await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
  const got = new Promise<Buffer>((resolve) => capture.once('connection', (s: Socket) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const c = tlsConnect({ host: '127.0.0.1', port: (capture.address() as AddressInfo).port, ALPNProtocols: ['istio-peer-exchange', 'http/1.1'], rejectUnauthorized: false });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  capture.close();
  return hello;
}

/** Blocks the event loop, as a loaded machine or a burst of synchronous work does. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

interface Outcome {
  readonly handler: string;
  readonly conn: ConnectionInfo;
}

// The client runs on its own thread, so it can send while this one is busy.
const CLIENT_JS = `const { connect } = require('node:net'); const { workerData: w } = require('node:worker_threads');
const c = connect(w.port, '127.0.0.1', () => setTimeout(() => c.write(Buffer.from(w.bytes)), w.afterMs));
c.on('error', () => {}); setTimeout(() => c.destroy(), 5000).unref();`;

/**
 * One connection through the dispatcher (detection timeout 50 ms). The client
 * (on a worker thread) sends `firstBytes` `sendAfterMs` after connecting; the
 * server blocks its loop for `blockMs` right after handing the socket to the
 * dispatcher, so the bytes wait in the kernel while the timer expires.
 */
async function dispatchBusy(opts: { strict?: boolean; firstBytes: Buffer; sendAfterMs: number; blockMs: number }): Promise<Outcome> {
  let done!: (o: Outcome) => void;
  const seen = new Promise<Outcome>((r) => (done = r));
  const take = (handler: string) => (s: Socket, conn: ConnectionInfo): void => {
    s.destroy();
    done({ handler, conn });
  };
  const mtls = {
    mode: () => 'STRICT' as const,
    terminate: (s: Socket): boolean => {
      s.destroy();
      done({ handler: 'mtls', conn: {} as ConnectionInfo });
      return true;
    },
    refused: (conn: ConnectionInfo, why: string): void => done({ handler: `refused:${why}`, conn }),
    admitted: (): void => undefined,
  };
  const h: ConnectionHandlers = { declared: () => undefined, http1: take('http1'), http2: undefined, tls: take('tls'), tcp: take('tcp'), loop: take('loop'), ...(opts.strict ? { mtls } : {}) };
  const dispatcher = createConnectionDispatcher(h, { detectionTimeoutMs: 50, isOwnListener: () => false });
  const server = createServer((s) => {
    dispatcher(s);
    busy(opts.blockMs);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new Worker(CLIENT_JS, { eval: true, workerData: { port: (server.address() as AddressInfo).port, bytes: new Uint8Array(opts.firstBytes), afterMs: opts.sendAfterMs } });
  try {
    return await seen;
  } finally {
    await client.terminate();
  }
}

describe('connection dispatch: a busy event loop, and STRICT mTLS', () => {
  it('sniffs first bytes that arrived while the loop was busy past the detection timeout', async () => {
    // Before: the timer ran first (timers precede I/O in a loop turn) and the ClientHello was never read: SNI lost.
    const o = await dispatchBusy({ firstBytes: await clientHello('busy.example.com'), sendAfterMs: 0, blockMs: 500 });
    expect(o.conn.sni).toBe('busy.example.com');
  });

  it('under STRICT, a mesh ClientHello that arrived while the loop was busy is terminated, not refused as plaintext', async () => {
    const o = await dispatchBusy({ strict: true, firstBytes: await meshClientHello(), sendAfterMs: 0, blockMs: 500 });
    expect(o.handler).toBe('mtls');
  });

  it('under STRICT, a caller slow to send its ClientHello (past the detection timeout) is terminated, not refused', async () => {
    // Only a client-first ClientHello can pass STRICT: the server-first fallback has nothing to offer there.
    const o = await dispatchBusy({ strict: true, firstBytes: await meshClientHello(), sendAfterMs: 400, blockMs: 0 });
    expect(o.handler).toBe('mtls');
  });

  it('under STRICT, plaintext is still refused', async () => {
    const o = await dispatchBusy({ strict: true, firstBytes: Buffer.from('GET / HTTP/1.1\r\nhost: a\r\n\r\n'), sendAfterMs: 0, blockMs: 0 });
    expect(o.handler).toBe('refused:plaintext');
  });
});
