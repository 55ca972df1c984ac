// A client that goes away mid-request must not leave the upstream request
// open: the proxy aborts it, the upstream sees its socket close, and the
// cluster's in-flight count returns to zero (no leaked circuit-breaker slot).
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, startMeshlet, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';

const procs: MeshletProc[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

/** An upstream that never answers and reports what happened to each request. */
async function blackHole(): Promise<{ port: number; seen: { url: string; bytes: number; closed: boolean; complete: boolean }[] }> {
  const seen: { url: string; bytes: number; closed: boolean; complete: boolean }[] = [];
  const s = createServer((req: IncomingMessage, res) => {
    const rec = { url: req.url ?? '', bytes: 0, closed: false, complete: false };
    seen.push(rec);
    req.on('data', (c: Buffer) => (rec.bytes += c.length));
    req.on('end', () => (rec.complete = true));
    res.on('close', () => (rec.closed = true));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as AddressInfo).port, seen };
}

async function activeRequests(m: MeshletProc): Promise<number> {
  const r = await send(m.admin, { path: '/clusters' });
  const list = (JSON.parse(r.body) as { clusters: { name: string; active_requests: number }[] }).clusters;
  return list.find((c) => c.name.startsWith('outbound|9080||svc'))!.active_requests;
}

describe('client disconnect', () => {
  it('aborts the upstream request when the client leaves while waiting for the response', async () => {
    const up = await blackHole();
    const m = await startMeshlet(['--config', tempConfig({ 'c.yaml': serviceEntry('svc', [up.port]) }), '--access-log', 'off']);
    procs.push(m);
    const req = request({ host: '127.0.0.1', port: m.outbound, path: '/wait', headers: { host: 'svc' }, agent: false });
    req.on('error', () => undefined);
    req.end();
    await until(() => up.seen.length === 1 || undefined);
    expect(await activeRequests(m)).toBe(1);
    req.destroy();
    await until(() => up.seen[0]!.closed || undefined);
    await until(async () => ((await activeRequests(m)) === 0 ? true : undefined));
    // Not retried either: the client is gone.
    expect(up.seen.length).toBe(1);
  });

  it('aborts a streamed upload when the client leaves mid-body', async () => {
    const up = await blackHole();
    const m = await startMeshlet(['--config', tempConfig({ 'c.yaml': serviceEntry('svc', [up.port]) }), '--access-log', 'off', '--buffer-limit', '1024']);
    procs.push(m);
    // Chunked and larger than the buffer limit: streamed straight through.
    const req = request({ host: '127.0.0.1', port: m.outbound, method: 'POST', path: '/upload', headers: { host: 'svc', 'transfer-encoding': 'chunked' }, agent: false });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(4096, 1));
    await until(() => (up.seen[0]?.bytes ?? 0) >= 4096 || undefined);
    req.destroy();
    await until(() => up.seen[0]!.closed || undefined);
    expect(up.seen[0]!.complete).toBe(false);
    await until(async () => ((await activeRequests(m)) === 0 ? true : undefined));
  });
});
