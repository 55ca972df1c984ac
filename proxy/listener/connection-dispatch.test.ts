// The dispatcher on real sockets: a client slow to send its ClientHello keeps
// its SNI on a port declared TLS (it waits as Envoy's tls_inspector does),
// while an undeclared port still gives up after the detection timeout
// (server-first protocols). Before, a loaded machine that delayed curl's
// ClientHello past 100 ms turned declared TLS into opaque TCP, SNI lost.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
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
