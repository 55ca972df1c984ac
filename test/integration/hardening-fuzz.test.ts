// Issue 10 item 1: no request crashes the process. Thousands of seeded
// malformed requests (fast-check, fixed seed) go over real sockets to every
// listener of a real sidecar (outbound, inbound, admin, metrics) and of a real
// control plane (gRPC, metrics); afterwards each process is still alive, never
// reached its last-resort handler, and a good request on each listener works.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchStatus } from '../../control-plane/index.js';
import { rawExchange, send, statusOf } from '../support/http-client.js';
import { BIN, serviceEntry, startMeshlet, tempConfig, type MeshletProc } from '../support/meshlet-process.js';
import { malformedRequests } from '../support/raw-fuzz.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const PER_LISTENER = 1500;
const SEED = 1010;

let app: Upstream;
let mesh: MeshletProc;
let cp: { proc: ChildProcess; grpc: number; metrics: number; err(): string };

async function startControlPlane(dir: string): Promise<typeof cp> {
  const proc = spawn(process.execPath, [BIN, 'control-plane', '--config-dir', dir, '--grpc-host', '127.0.0.1', '--grpc-port', '0', '--metrics-port', '0', '--insecure'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const ports = await new Promise<[number, number]>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`control plane did not start:\n${err}`)), 15_000);
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on [^\s]*:(\d+), metrics on :(\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve([Number(m[1]), Number(m[2])]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`control plane exited ${code}:\n${err}`)));
  });
  return { proc, grpc: ports[0], metrics: ports[1], err: () => err };
}

/** Writes `bytes`, half-closes, reads until the peer closes (bounded). */
function fire(port: number, bytes: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const t = setTimeout(() => s.destroy(), 2000);
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve();
    });
    s.end(Buffer.from(bytes, 'latin1'));
  });
}

async function fuzz(port: number, seed: number): Promise<void> {
  const inputs = malformedRequests(PER_LISTENER, seed);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) await fire(port, inputs[next++]!);
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

beforeAll(async () => {
  app = await startUpstream('app');
  const dir = tempConfig({ 'se.yaml': serviceEntry('svc', [app.port]) });
  mesh = await startMeshlet(['--config', dir, '--access-log', 'off', '--app-port', String(app.port)]);
  cp = await startControlPlane(dir);
}, 30_000);

afterAll(async () => {
  await mesh?.stop();
  cp?.proc.kill('SIGKILL');
  await app?.close();
});

describe('malformed requests never take a process down', () => {
  it('admin: the request that used to crash the sidecar gets a reply and the process lives', async () => {
    const reply = await rawExchange(mesh.admin, 'GET http://[ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(statusOf(reply)).toBe(404);
    expect(mesh.proc.exitCode).toBeNull();
    expect((await send(mesh.admin, { path: '/ready' })).status).toBe(200);
  });

  const listeners = [
    ['sidecar outbound', () => mesh.outbound],
    ['sidecar inbound', () => mesh.inbound],
    ['sidecar admin', () => mesh.admin],
    ['sidecar metrics', () => mesh.metrics],
    ['control-plane gRPC', () => cp.grpc],
    ['control-plane metrics', () => cp.metrics],
  ] as const;
  listeners.forEach(([name, port], i) => {
    it(`${name}: ${PER_LISTENER} malformed requests, then the process is alive and a good request succeeds`, async () => {
      await fuzz(port(), SEED + i);
      expect(mesh.proc.exitCode, mesh.stderr()).toBeNull();
      expect(cp.proc.exitCode, cp.err()).toBeNull();
      expect(mesh.stderr()).not.toMatch(/uncaught|unhandled/i);
      expect(cp.err()).not.toMatch(/uncaught|unhandled/i);
      expect((await send(mesh.outbound, { host: 'svc:9080' })).status).toBe(200);
      expect((await send(mesh.inbound, { host: 'svc' })).status).toBe(200);
      expect((await send(mesh.admin, { path: '/ready' })).status).toBe(200);
      expect((await send(mesh.metrics, { path: '/stats/prometheus' })).status).toBe(200);
      expect((await send(cp.metrics, { path: '/metrics' })).status).toBe(200);
      const st = await fetchStatus(`127.0.0.1:${cp.grpc}`);
      expect(st.controlPlaneId).toMatch(/^meshlet-cp-/);
    }, 120_000);
  });
});
