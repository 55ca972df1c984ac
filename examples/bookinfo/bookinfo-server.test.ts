import http from 'node:http';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readServiceConfig, startBookinfo, type BookinfoServer, type Env } from './index.js';

const started: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function start(role: string, env: Env, rng?: () => number): Promise<BookinfoServer> {
  const srv = await startBookinfo(readServiceConfig([role], { HOST: '127.0.0.1', PORT: '0', POD_NAME: `${role}-0`, ...env }), rng);
  started.push(srv);
  return srv;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }));
      })
      .on('error', reject);
  });
}

describe('readServiceConfig', () => {
  const ok: Array<{ argv: string[]; env: Env; check: (c: ReturnType<typeof readServiceConfig>) => void }> = [
    { argv: ['details'], env: {}, check: (c) => expect([c.role, c.version, c.port, c.peers.length]).toEqual(['details', 'v1', 9080, 0]) },
    { argv: [], env: { ROLE: 'ratings', PORT: '9081' }, check: (c) => expect([c.role, c.port]).toEqual(['ratings', 9081]) },
    { argv: ['reviews'], env: {}, check: (c) => expect(c.peers).toEqual([]) },
    { argv: ['reviews'], env: { VERSION: 'v3' }, check: (c) => expect(c.peers.map((p) => p.url.href)).toEqual(['http://ratings:9080/ratings/0']) },
    {
      argv: ['productpage'],
      env: { HTTP_PROXY: 'http://127.0.0.1:15001', NO_PROXY: 'localhost,details' },
      check: (c) => {
        expect(c.peers.map((p) => p.field)).toEqual(['details', 'reviews']);
        expect(c.peers.map((p) => p.proxy?.port ?? null)).toEqual([null, '15001']);
      },
    },
    { argv: ['details'], env: { FAIL_RATE: '0.5', FAIL_STATUS: '500', DELAY_MS: '10' }, check: (c) => expect([c.failRate, c.failStatus, c.delayMs]).toEqual([0.5, 500, 10]) },
    { argv: ['details'], env: { POD_NAME: 'details-7' }, check: (c) => expect(c.pod).toBe('details-7') },
  ];
  it.each(ok)('accepts $argv $env', ({ argv, env, check }) => check(readServiceConfig(argv, env)));

  const bad: Array<{ argv: string[]; env: Env }> = [
    { argv: [], env: {} },
    { argv: ['gateway'], env: {} },
    { argv: ['reviews'], env: { VERSION: 'v4' } },
    { argv: ['details'], env: { FAIL_RATE: '2' } },
    { argv: ['details'], env: { PORT: 'x' } },
    { argv: ['productpage'], env: { REVIEWS_URL: 'not a url' } },
    // The old private variable fails loudly instead of silently dialling peers directly.
    { argv: ['productpage'], env: { HTTP_PROXY_URL: 'http://127.0.0.1:15001' } },
    { argv: ['productpage'], env: { HTTP_PROXY: 'https://proxy:3128' } },
  ];
  it.each(bad)('rejects $argv $env', ({ argv, env }) => expect(() => readServiceConfig(argv, env)).toThrow(RangeError));
});

describe('bookinfo services on loopback', () => {
  it('productpage aggregates details and reviews v2 -> ratings, forwarding trace headers', async () => {
    const ratings = await start('ratings', {});
    const details = await start('details', {});
    const reviews = await start('reviews', { VERSION: 'v2', RATINGS_URL: `http://127.0.0.1:${ratings.port}/ratings/0` });
    const page = await start('productpage', {
      DETAILS_URL: `http://127.0.0.1:${details.port}/details/0`,
      REVIEWS_URL: `http://127.0.0.1:${reviews.port}/reviews/0`,
    });
    const trace = { 'x-request-id': 'rid-1', 'x-b3-traceid': 'a'.repeat(32), 'x-b3-spanid': 'b'.repeat(16), 'x-b3-sampled': '1', traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` };
    const { status, body } = await get(page.port, '/productpage', { ...trace, 'x-unrelated': 'no' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ service: 'productpage', version: 'v1', pod: 'productpage-0', trace });
    expect(body['details']).toMatchObject({ service: 'details', trace });
    expect(body['reviews']).toMatchObject({ service: 'reviews', version: 'v2', ratings: { service: 'ratings', pod: 'ratings-0', trace } });
    expect(JSON.stringify(body)).not.toContain('x-unrelated');
  });

  it('injects failures and delay from FAIL_RATE / FAIL_STATUS / DELAY_MS', async () => {
    const details = await start('details', { FAIL_RATE: '0.5', FAIL_STATUS: '500', DELAY_MS: '30' }, () => 0.25);
    const t0 = performance.now();
    const r = await get(details.port, '/details/0');
    expect(r.status).toBe(500);
    expect(r.body['error']).toBe('injected failure');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    const healthy = await start('details', { FAIL_RATE: '0.5' }, () => 0.75);
    expect((await get(healthy.port, '/details/0')).status).toBe(200);
    // Health checks are never failed on purpose.
    const always = await start('ratings', { FAIL_RATE: '1' });
    expect((await get(always.port, '/healthz')).status).toBe(200);
  });

  it('degrades on a failing peer, or answers 502 with PROPAGATE_ERRORS', async () => {
    const ratings = await start('ratings', { FAIL_RATE: '1', FAIL_STATUS: '503' });
    const url = `http://127.0.0.1:${ratings.port}/ratings/0`;
    const soft = await start('reviews', { VERSION: 'v3', RATINGS_URL: url });
    const r1 = await get(soft.port, '/reviews/0');
    expect(r1.status).toBe(200);
    expect(r1.body['ratings']).toMatchObject({ error: 'status 503', status: 503 });
    const strict = await start('reviews', { VERSION: 'v3', RATINGS_URL: url, PROPAGATE_ERRORS: '1' });
    expect((await get(strict.port, '/reviews/0')).status).toBe(502);
  });

  it('explicit mode sends absolute-form requests to HTTP_PROXY, and NO_PROXY hosts directly', async () => {
    const ratings = await start('ratings', {});
    const seen: Array<{ url: string; host: string | undefined }> = [];
    // A minimal forward proxy standing in for the sidecar's outbound port.
    const proxy = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', host: req.headers.host });
      const up = http.get({ host: '127.0.0.1', port: ratings.port, path: new URL(req.url ?? '/').pathname, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => res.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    started.push({ close: () => new Promise<void>((r) => { proxy.close(() => r()); proxy.closeAllConnections(); }) });
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const reviews = await start('reviews', { VERSION: 'v2', http_proxy: proxyUrl, NO_PROXY: 'localhost' });
    const r = await get(reviews.port, '/reviews/0');
    expect(r.status).toBe(200);
    expect(r.body['ratings']).toMatchObject({ service: 'ratings' });
    expect(seen).toEqual([{ url: 'http://ratings:9080/ratings/0', host: 'ratings:9080' }]);
    // Same proxy, but the peer's address is in NO_PROXY: dialled directly, the proxy sees nothing more.
    const direct = await start('reviews', { VERSION: 'v2', HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1', RATINGS_URL: `http://127.0.0.1:${ratings.port}/ratings/0` });
    const d = await get(direct.port, '/reviews/0');
    expect(d.body['ratings']).toMatchObject({ service: 'ratings' });
    expect(seen).toHaveLength(1);
  });

  it('the program prints a listening line and exits 0 on SIGTERM', async () => {
    const entry = fileURLToPath(new URL('./service.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', entry, 'details'], {
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 10_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (/listening on 127\.0\.0\.1:\d+/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 15_000);
});
