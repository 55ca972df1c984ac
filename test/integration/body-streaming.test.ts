// Request bodies stream upstream as they arrive while a bounded copy is kept
// for a retry or a mirror (--buffer-limit): chunked and content-length bodies
// alike, bytes_received counted, and past the limit the attempt in progress
// continues while later retries are abandoned (counted) and the mirror is
// dropped (counted). Real sockets: node:http clients and upstreams.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, until, type MeshletProc, svcRoute } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';
const scope = testScope();


/** A POST through the proxy whose body is written chunk by chunk (chunked transfer-encoding unless `length` is given). */
function post(port: number, opts: { length?: number } = {}): { write(s: string | Buffer): void; end(): Promise<{ status: number; body: string }> } {
  const headers: Record<string, string | number> = { host: 'svc', 'content-type': 'text/plain' };
  if (opts.length !== undefined) headers['content-length'] = opts.length;
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers, agent: false });
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  if (opts.length === undefined) req.flushHeaders();
  return {
    write: (s) => void req.write(s),
    end: async () => {
      req.end();
      return done;
    },
  };
}

async function scrape(m: MeshletProc): Promise<string> {
  return (await send(m.metrics, { path: '/stats/prometheus' })).body;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

describe('request bodies stream with a bounded replay copy', () => {
  it('forwards the body as it arrives: the upstream reads the first chunk before the client has sent the rest', async () => {
    let firstChunk = '';
    let whole = '';
    const srv = createServer((req, res) => {
      req.on('data', (c: Buffer) => {
        if (firstChunk === '') firstChunk = c.toString();
        whole += c.toString();
      });
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    servers.push(srv);
    // Retries on (the default policy) and a mirror-free route: the copy is kept while the body streams.
    const m = await scope.meshlet(serviceEntry('svc', [(srv.address() as AddressInfo).port]) + svcRoute('      retries: { attempts: 2, retryOn: 5xx }\n'));
    // A content-length body within --buffer-limit: the case that used to be read whole before a byte went upstream.
    const p = post(m.outbound, { length: 22 });
    p.write('first-part;');
    await until(() => firstChunk !== '' || undefined, 15_000, 10);
    expect(firstChunk).toBe('first-part;');
    p.write('second-part');
    const r = await p.end();
    expect(r.status).toBe(200);
    expect(whole).toBe('first-part;second-part');
  });

  it('a chunked 12-byte POST on a mirrored route reaches the mirror, and bytes_received is 12', async () => {
    const primary = await scope.upstream('primary');
    const shadow = await scope.upstream('shadow');
    const log = join(mkdtempSync(join(tmpdir(), 'meshlet-body-')), 'access.log');
    const m = await scope.meshlet(serviceEntry('svc', [primary.port]) + serviceEntry('shadow', [shadow.port]) + svcRoute('      mirror: { host: shadow }\n'), ['--access-log', log]);
    const p = post(m.outbound);
    p.write('hello ');
    p.write('world!');
    expect((await p.end()).status).toBe(200);
    await until(() => shadow.received.length === 1 || undefined);
    expect(shadow.received[0]!.body.toString()).toBe('hello world!');
    expect(primary.received[0]!.body.toString()).toBe('hello world!');
    const text = await until(async () => {
      const t = await scrape(m);
      return /meshlet_mirror_requests_total\{[^}]*outcome="sent"[^}]*\} 1/.test(t) ? t : undefined;
    });
    expect(text).not.toMatch(/outcome="dropped"/);
    const line = await until(() => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').find((l) => l.includes('/upload')) : undefined));
    expect(line).toContain('"bytes_received":12');
  });

  it('a retried chunked POST arrives complete on the second attempt', async () => {
    const up = await scope.upstream('flaky', (_req, res, _body, n) => {
      res.statusCode = n === 1 ? 503 : 200;
      res.end(n === 1 ? 'busy' : 'done');
    });
    const m = await scope.meshlet(serviceEntry('svc', [up.port]) + svcRoute('      retries: { attempts: 2, retryOn: 5xx }\n'));
    const p = post(m.outbound);
    p.write('part-one/');
    p.write('part-two/');
    p.write('part-three');
    const r = await p.end();
    expect(r.status).toBe(200);
    expect(r.body).toBe('done');
    expect(up.received.length).toBe(2);
    expect(up.received.map((x) => x.body.toString())).toEqual(['part-one/part-two/part-three', 'part-one/part-two/part-three']);
  });

  for (const kind of ['content-length', 'chunked'] as const) {
    it(`a ${kind} body past --buffer-limit: the first attempt gets it whole, the retry is abandoned and counted, the mirror dropped and counted`, async () => {
      const up = await scope.upstream('flaky', (_req, res) => {
        res.statusCode = 503;
        res.end('busy');
      });
      const shadow = await scope.upstream('shadow');
      const m = await scope.meshlet(
        serviceEntry('svc', [up.port]) + serviceEntry('shadow', [shadow.port]) + svcRoute('      retries: { attempts: 2, retryOn: 5xx }\n      mirror: { host: shadow }\n'),
        ['--buffer-limit', '1024'],
      );
      const body = Buffer.alloc(4096, 'x');
      const p = post(m.outbound, kind === 'content-length' ? { length: body.length } : {});
      p.write(body.subarray(0, 2048));
      p.write(body.subarray(2048));
      const r = await p.end();
      expect(r.status).toBe(503);
      expect(up.received.length).toBe(1);
      expect(up.received[0]!.body.equals(body)).toBe(true);
      const text = await until(async () => {
        const t = await scrape(m);
        return /meshlet_retries_abandoned_total\{[^}]*reason="body_too_large"[^}]*\} 1/.test(t) && /meshlet_mirror_requests_total\{[^}]*outcome="dropped"[^}]*\} 1/.test(t) ? t : undefined;
      });
      expect(text).not.toMatch(/meshlet_retries_total\{/);
      expect(shadow.received.length).toBe(0);
    });
  }
});
