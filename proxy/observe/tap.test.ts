import { afterEach, describe, expect, it } from 'vitest';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { destination, makeExchange } from './exchange-fixture.js';
import { parseTapQuery, REDACTED, TapHub } from './tap.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function mount(hub: TapHub): Promise<number> {
  server = createServer((req, res) => hub.handleTapRequest(req, res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function open(port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request({ host: '127.0.0.1', port, path }, resolve).on('error', reject).end());
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    res.setEncoding('utf8').on('data', (c: string) => (body += c));
    res.on('end', () => resolve(body));
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

function exchange(path: string, status: number, dest = 'reviews') {
  const ex = makeExchange('outbound', { authorization: 'Bearer s3cret', cookie: 'a=b', 'x-api-key': 'k', 'user-agent': 'ua' });
  ex.path = path;
  ex.status = status;
  ex.destination = destination(dest);
  return ex;
}

describe('parseTapQuery', () => {
  it.each([
    ['/tap', { max: 100, durationMs: 60000 }],
    ['/tap?destination=reviews&path=/api&status=5xx&max=10&duration=5000', { destination: 'reviews', pathPrefix: '/api', statusClass: 500, max: 10, durationMs: 5000 }],
    ['/tap?status=503&max=999999', { statusExact: 503, max: 10000, durationMs: 60000 }],
    ['/tap?status=abc', 'bad status "abc": use 5xx or 503'],
    ['/tap?max=-1', 'bad max "-1"'],
  ])('%s', (url, want) => {
    expect(parseTapQuery(url)).toEqual(want);
  });
});

describe('TapHub over HTTP', () => {
  it('streams matching events as NDJSON with secrets redacted, ends at max', async () => {
    const hub = new TapHub();
    const port = await mount(hub);
    // No subscriber: nothing happens (and nothing is serialised).
    hub.onComplete(exchange('/api/x', 500));
    const res = await open(port, '/tap?destination=reviews&path=/api&status=5xx&max=2');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const body = readAll(res);
    await until(() => hub.subscribers === 1);
    hub.onComplete(exchange('/api/a', 503));
    hub.onComplete(exchange('/api/b', 200)); // wrong status class
    hub.onComplete(exchange('/other', 500)); // wrong path
    hub.onComplete(exchange('/api/c', 500, 'ratings')); // wrong destination
    hub.onComplete(exchange('/api/d', 502));
    hub.onComplete(exchange('/api/e', 500)); // after max
    const lines = (await body).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['path'])).toEqual(['/api/a', '/api/d']);
    expect(lines[0]!['request_headers']).toEqual({ authorization: REDACTED, cookie: REDACTED, 'x-api-key': REDACTED, 'user-agent': 'ua' });
    expect(lines[0]!['response_code']).toBe(503);
    expect(hub.subscribers).toBe(0);
  });

  it('ends on duration and drops the subscriber when the client leaves', async () => {
    const hub = new TapHub();
    const port = await mount(hub);
    const res = await open(port, '/tap?duration=50');
    expect(await readAll(res)).toBe('');
    expect(hub.subscribers).toBe(0);

    const res2 = await open(port, '/tap');
    await until(() => hub.subscribers === 1);
    res2.destroy();
    await until(() => hub.subscribers === 0);
    hub.onComplete(exchange('/api/x', 200));
  });

  it('rejects a bad query with 400', async () => {
    const port = await mount(new TapHub());
    const res = await open(port, '/tap?status=7xx');
    expect(res.statusCode).toBe(400);
    await readAll(res);
  });
});
