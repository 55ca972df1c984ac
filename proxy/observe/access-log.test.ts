import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flag } from '../errors/index.js';
import { AccessLog } from './access-log.js';
import { destination, endpoint, makeExchange } from './exchange-fixture.js';

describe('AccessLog', () => {
  it('writes one parseable Envoy-style JSON line per request to a file, flushed on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-al-'));
    try {
      const file = join(dir, 'sub', 'access.log');
      const log = new AccessLog({ target: file });
      const ex = makeExchange('outbound', {}, 'POST');
      ex.path = '/api/v1/reviews?x=1';
      ex.authority = 'reviews:9080';
      ex.requestId = 'rid-1';
      ex.routeName = 'reviews-route';
      ex.destination = destination('reviews');
      ex.endpoint = endpoint('10.0.0.7:9080', 'reviews', 'v2');
      ex.trace = { traceId: '463ac35c9f6413ad', spanId: 'a2fb4a1d1a96d312', parentSpanId: undefined, sampled: true, debug: false };
      ex.status = 503;
      ex.flags = Flag.UF | Flag.URX;
      ex.attempts = 3;
      ex.bytesIn = 12;
      ex.bytesOut = 95;
      ex.upstreamHeadersMs = 4.4;
      ex.durationMs = 9.6;
      log.onComplete(ex);
      const bare = makeExchange('inbound');
      bare.status = 404;
      bare.flags = Flag.NR;
      log.onComplete(bare);
      await log.close();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(2);
      const e = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(e).toEqual({
        start_time: new Date(ex.startEpochMs).toISOString(),
        direction: 'outbound',
        method: 'POST',
        path: '/api/v1/reviews?x=1',
        protocol: 'http',
        authority: 'reviews:9080',
        response_code: 503,
        response_flags: 'UF,URX',
        grpc_status: null,
        bytes_received: 12,
        bytes_sent: 95,
        duration: 10,
        upstream_service_time: 4,
        upstream_host: '10.0.0.7:9080',
        upstream_cluster: 'outbound|9080||reviews.default.svc.cluster.local',
        route_name: 'reviews-route',
        x_request_id: 'rid-1',
        trace_id: '463ac35c9f6413ad',
        attempt_count: 3,
        detail: null,
      });
      const b = JSON.parse(lines[1]!) as Record<string, unknown>;
      expect(b).toMatchObject({ direction: 'inbound', response_code: 404, response_flags: 'NR', upstream_host: null, trace_id: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps every line whole and in order across 64 KiB chunks, multi-byte text and a line longer than a chunk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-al-'));
    try {
      const file = join(dir, 'access.log');
      const log = new AccessLog({ target: file });
      const paths: string[] = [];
      for (let i = 0; i < 3000; i++) {
        // ~10% multi-byte paths, and one path far longer than a chunk (3 bytes per character).
        const path = i === 1234 ? '/' + 'ü'.repeat(40_000) : i % 10 === 0 ? `/ünï/${i}/€` : `/plain/${i}`;
        paths.push(path);
        const ex = makeExchange('outbound');
        ex.path = path;
        ex.requestId = `rid-${i}`;
        log.onComplete(ex);
      }
      await log.close();
      const lines = readFileSync(file, 'utf8').split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => (JSON.parse(l) as { path: string }).path)).toEqual(paths);
      expect(lines.map((l) => (JSON.parse(l) as { x_request_id: string }).x_request_id)).toEqual(paths.map((_, i) => `rid-${i}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes a gathered line within flushMs without waiting for a full chunk or close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-al-'));
    const log = new AccessLog({ target: join(dir, 'access.log'), flushMs: 50 });
    try {
      const ex = makeExchange('outbound');
      ex.requestId = 'early-line';
      log.onComplete(ex);
      expect(readFileSync(join(dir, 'access.log'), { encoding: 'utf8', flag: 'a+' })).toBe('');
      const deadline = Date.now() + 5000;
      let text = '';
      while (Date.now() < deadline && !text.includes('early-line')) {
        await new Promise((r) => setTimeout(r, 20));
        text = readFileSync(join(dir, 'access.log'), { encoding: 'utf8', flag: 'a+' });
      }
      expect(text).toContain('"x_request_id":"early-line"');
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a no-op when off', async () => {
    const log = new AccessLog({ target: 'off' });
    expect(log.enabled).toBe(false);
    log.onComplete(makeExchange('outbound'));
    await log.close();
  });
});

describe('accessLogLine', () => {
  it('is exactly JSON.stringify of the entry, also for strings that need escaping', async () => {
    const { accessLogLine, accessLogEntry } = await import('./access-log.js');
    const { makeExchange } = await import('./exchange-fixture.js');
    for (const path of ['/plain', '/quote"and\\backslash', '/ünïcode', '/tab\there']) {
      const ex = makeExchange('outbound');
      ex.path = path;
      ex.authority = 'reviews:9080';
      ex.requestId = 'rid-1';
      ex.status = 503;
      ex.flags = 2;
      ex.durationMs = 12.4;
      for (const t of [1795626106000, 1795626106007, 1795626106042, 1795626106999]) {
        (ex as { startEpochMs: number }).startEpochMs = t;
        expect(accessLogLine(ex)).toBe(JSON.stringify(accessLogEntry(ex)) + '\n');
        expect(JSON.parse(accessLogLine(ex)).start_time).toBe(new Date(t).toISOString());
      }
    }
  });
});
