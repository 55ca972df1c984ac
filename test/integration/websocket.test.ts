// WebSocket (HTTP/1.1 Upgrade) through the outbound listener: the handshake
// reaches the upstream, the 101 comes back, and bytes flow both ways.
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serviceEntry, startMeshlet, tempConfig, type MeshletProc } from '../support/meshlet-process.js';

let up: Server;
let mesh: MeshletProc;
let upgradeHost = '';
const upgraded: import('node:stream').Duplex[] = [];

beforeAll(async () => {
  up = createServer((_req, res) => res.end('plain'));
  up.on('upgrade', (req, socket) => {
    upgradeHost = req.headers.host ?? '';
    upgraded.push(socket);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nx-echo: ready\r\n\r\n');
    // A trivial echo protocol is enough to prove the tunnel carries bytes both ways.
    socket.on('data', (d) => socket.write(`echo:${d.toString()}`));
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', () => r()));
  const port = (up.address() as AddressInfo).port;
  mesh = await startMeshlet(['--config', tempConfig({ 'c.yaml': serviceEntry('ws', [port]) }), '--access-log', 'off']);
});

afterAll(async () => {
  await mesh?.stop();
  up?.closeAllConnections();
  for (const s of upgraded) s.destroy();
  await new Promise<void>((r) => up?.close(() => r()));
});

it('tunnels a WebSocket upgrade to the routed endpoint', async () => {
  const s = connect(mesh.outbound, '127.0.0.1');
  let got = '';
  s.on('data', (d) => (got += d.toString()));
  s.write('GET /chat HTTP/1.1\r\nHost: ws:9080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const deadline = Date.now() + 5000;
  while (!got.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(got).toMatch(/^HTTP\/1\.1 101/);
  expect(got.toLowerCase()).toContain('x-echo: ready');
  expect(upgradeHost).toBe('ws:9080');
  s.write('hello');
  while (!got.includes('echo:hello') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(got).toContain('echo:hello');
  s.destroy();
});

it('answers 404 to an upgrade for an unknown host', async () => {
  const s = connect(mesh.outbound, '127.0.0.1');
  let got = '';
  s.on('data', (d) => (got += d.toString()));
  s.write('GET / HTTP/1.1\r\nHost: nowhere\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  const deadline = Date.now() + 5000;
  while (got === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(got).toMatch(/^HTTP\/1\.1 404/);
  s.destroy();
});
