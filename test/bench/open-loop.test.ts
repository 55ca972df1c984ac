import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOpenLoop } from './open-loop.js';

// A real server that stalls every 50th request for 100 ms: an open-loop
// generator must keep releasing on schedule and charge the stall to latency.
let server: http.Server;
let port = 0;
let seen = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen++;
    req.resume();
    const stall = seen % 50 === 0;
    setTimeout(() => res.end('ok'), stall ? 100 : 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('runOpenLoop', () => {
  it('sends at the scheduled rate and measures stalls', async () => {
    seen = 0;
    const r = await runOpenLoop({ port, path: '/', rate: 500, durationMs: 600, connections: 4 });
    expect(r.sent).toBe(300);
    expect(r.errors + r.unanswered + r.non2xx).toBe(0);
    expect(r.count).toBe(300);
    // Only 1 in 50 requests stalls: the median is not a stalled one (no wall-clock bound: CI hosts vary).
    expect(r.p50Us).toBeLessThan(r.maxUs);
    expect(r.maxUs).toBeGreaterThanOrEqual(100_000); // the stalled requests
  });

  it('excludes warm-up from samples and posts bodies', async () => {
    const r = await runOpenLoop({ port, path: '/', method: 'POST', body: Buffer.alloc(2048), rate: 400, durationMs: 250, warmupMs: 250, connections: 2 });
    expect(r.sent).toBe(200);
    expect(r.count).toBe(100);
  });
});
