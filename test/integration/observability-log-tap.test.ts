// Access log and live tap through real meshlet processes: one JSON line per
// request with Envoy's fields (`--access-log FILE`), nothing with
// `--access-log off`; GET /tap on the admin port streams matching requests
// with secrets redacted; `meshlet tap` (the real CLI process) prints them.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { BIN, serviceEntry, startMeshlet, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';
import { closedPort } from '../support/scope.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

let web: Upstream;
let other: Upstream;
let deadPort = 0;
let logged: MeshletProc;
let silent: MeshletProc;
let toStdout: MeshletProc;
let logFile = '';

beforeAll(async () => {
  web = await startUpstream('web', (req, res) => {
    res.writeHead(req.url?.includes('fail') ? 500 : 200, { 'content-type': 'text/plain' });
    res.end('hello from web');
  });
  other = await startUpstream('other', (_req, res) => void res.writeHead(500).end());
  deadPort = await closedPort();
  const config = tempConfig({
    's.yaml': serviceEntry('web', [web.port]) + serviceEntry('other', [other.port]) + serviceEntry('dead', [deadPort]),
    'vs.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: dead }
spec:
  hosts: [dead]
  http:
    - name: dead-route
      retries: { attempts: 0 }
      route: [{ destination: { host: dead } }]
`,
  });
  logFile = join(config, 'logs', 'access.log');
  [logged, silent, toStdout] = await Promise.all([
    startMeshlet(['--config', config, '--access-log', logFile]),
    startMeshlet(['--config', config, '--access-log', 'off']),
    startMeshlet(['--config', config]),
  ]);
});

afterAll(async () => {
  await Promise.all([logged, silent, toStdout].map((m) => m?.stop()));
  await Promise.all([web, other].map((u) => u?.close()));
});

function lines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('access log', () => {
  it('writes one Envoy-like JSON line per request to the file: a 200 and a 503 UF', async () => {
    const ok = await send(logged.outbound, { host: 'web', path: '/hello?x=1', method: 'POST', body: 'ping', headers: { 'x-request-id': 'log-ok' } });
    expect(ok.status).toBe(200);
    const failed = await send(logged.outbound, { host: 'dead', path: '/gone', headers: { 'x-request-id': 'log-uf' } });
    expect(failed.status).toBe(503);
    const entries = await until(() => {
      if (!existsSync(logFile)) return undefined;
      const l = lines(readFileSync(logFile, 'utf8'));
      return l.length >= 2 ? l : undefined;
    });
    expect(entries).toHaveLength(2);
    const [a, b] = entries as [Record<string, unknown>, Record<string, unknown>];
    expect(a).toMatchObject({
      direction: 'outbound',
      method: 'POST',
      path: '/hello',
      protocol: 'http',
      authority: 'web',
      response_code: 200,
      response_flags: '-',
      bytes_received: 4,
      bytes_sent: 'hello from web'.length,
      upstream_host: `127.0.0.1:${web.port}`,
      x_request_id: 'log-ok',
      attempt_count: 1,
      detail: null,
    });
    expect(String(a['upstream_cluster'])).toContain('web');
    expect(a['route_name']).toBeTruthy();
    expect(a['trace_id']).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof a['duration']).toBe('number');
    expect(typeof a['upstream_service_time']).toBe('number');
    expect(Date.now() - Date.parse(String(a['start_time']))).toBeLessThan(60_000);
    expect(b).toMatchObject({
      method: 'GET',
      path: '/gone',
      authority: 'dead',
      response_code: 503,
      response_flags: 'UF',
      upstream_host: `127.0.0.1:${deadPort}`,
      upstream_service_time: null,
      route_name: 'dead-route',
      x_request_id: 'log-uf',
      attempt_count: 1,
    });
    expect(b['detail']).toBeTruthy();
    // Nothing went to stdout: the file is the only sink.
    expect(logged.stdout()).not.toContain('"response_code"');
  });

  it('--access-log off writes nothing (the default, stdout, does)', async () => {
    for (const m of [silent, toStdout]) expect((await send(m.outbound, { host: 'web', headers: { 'x-request-id': 'log-sink' } })).status).toBe(200);
    await until(() => toStdout.stdout().includes('"x_request_id":"log-sink"') || undefined);
    // Both proxies handled the same request; the stdout one logged it, so a line from `silent` would be out by now too.
    await until(() => web.received.filter((r) => r.headers['x-request-id'] === 'log-sink').length === 2 || undefined);
    expect(silent.stdout()).toBe('');
  });
});

interface TapStream {
  events: Array<Record<string, unknown>>;
  ended: Promise<void>;
}

/** Opens GET /tap and resolves once the stream is live (headers received). */
function tap(admin: number, query: string): Promise<TapStream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: admin, path: `/tap?${query}` }, (res: IncomingMessage) => {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/x-ndjson');
      const events: Array<Record<string, unknown>> = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
          buf = buf.slice(nl + 1);
        }
      });
      resolve({ events, ended: new Promise((r) => res.once('end', () => r())) });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tap', () => {
  it('streams matching requests as NDJSON, filtered by destination, path and status class, and ends at max', async () => {
    const t = await tap(silent.admin, 'destination=web&path=/api&status=5xx&max=2');
    const traffic: Array<[string, string, number]> = [
      ['web', '/api/ok', 200], // status filtered
      ['web', '/api/fail-1', 500], // match
      ['other', '/api/fail', 500], // destination filtered
      ['web', '/site/fail', 500], // path filtered
      ['web', '/api/fail-2', 500], // match: the second, stream ends
      ['web', '/api/fail-3', 500], // after the end
    ];
    for (const [host, path, status] of traffic) expect((await send(silent.outbound, { host, path })).status).toBe(status);
    await t.ended;
    expect(t.events.map((e) => e['path'])).toEqual(['/api/fail-1', '/api/fail-2']);
    expect(t.events[0]).toMatchObject({ method: 'GET', authority: 'web', response_code: 500, upstream_host: `127.0.0.1:${web.port}` });
  });

  it('redacts authorization and cookie but shows other headers', async () => {
    const t = await tap(silent.admin, 'max=1');
    const r = await send(silent.outbound, { host: 'web', path: '/secret', headers: { authorization: 'Bearer s3cr3t', cookie: 'session=abc', 'x-trace-me': 'visible' } });
    expect(r.status).toBe(200);
    await t.ended;
    expect(t.events).toHaveLength(1);
    const h = t.events[0]!['request_headers'] as Record<string, string>;
    expect(h['authorization']).toBe('[REDACTED]');
    expect(h['cookie']).toBe('[REDACTED]');
    expect(h['x-trace-me']).toBe('visible');
    expect(JSON.stringify(t.events[0])).not.toContain('s3cr3t');
  });

  it('rejects a bad filter with 400', async () => {
    const r = await send(silent.admin, { path: '/tap?status=teapot' });
    expect(r.status).toBe(400);
  });

  it('`meshlet tap` prints one line per live request and exits after --max', async () => {
    const cli = spawn(process.execPath, [BIN, 'tap', '--admin', `127.0.0.1:${silent.admin}`, '--destination', 'web', '--max', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout.on('data', (c: Buffer) => (out += c.toString()));
    cli.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
    try {
      await until(() => err.includes('tapping') || undefined);
      expect((await send(silent.outbound, { host: 'other', path: '/not-me' })).status).toBe(500);
      expect((await send(silent.outbound, { host: 'web', path: '/one', headers: { 'x-request-id': 'cli-1' } })).status).toBe(200);
      expect((await send(silent.outbound, { host: 'web', path: '/two/fail', headers: { 'x-request-id': 'cli-2' } })).status).toBe(500);
      expect(await exited).toBe(0);
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
    }
    const printed = out.trim().split('\n');
    expect(printed).toHaveLength(2);
    expect(printed[0]).toMatch(/outbound {2}GET {2}web\/one {2}200 {2}flags=- {2}\d+ms {2}upstream=127\.0\.0\.1:\d+ {2}id=cli-1$/);
    expect(printed[1]).toMatch(/GET {2}web\/two\/fail {2}500 .* id=cli-2$/);
  });

  it('`meshlet tap --json --status 5xx` prints the raw matching events', async () => {
    const cli = spawn(process.execPath, [BIN, 'tap', '--admin', `127.0.0.1:${silent.admin}`, '--status', '5xx', '--max', '1', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout.on('data', (c: Buffer) => (out += c.toString()));
    cli.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)));
    try {
      await until(() => err.includes('tapping') || undefined);
      expect((await send(silent.outbound, { host: 'web', path: '/fine' })).status).toBe(200);
      expect((await send(silent.outbound, { host: 'web', path: '/json/fail', headers: { 'x-request-id': 'cli-json' } })).status).toBe(500);
      expect(await exited).toBe(0);
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
    }
    const events = lines(out);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ path: '/json/fail', response_code: 500, x_request_id: 'cli-json' });
  });

  it('`meshlet tap --duration` ends by itself when nothing matches', async () => {
    const started = Date.now();
    const cli = spawn(process.execPath, [BIN, 'tap', '--admin', `127.0.0.1:${silent.admin}`, '--path', '/nothing-goes-here', '--duration', '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    cli.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r) => cli.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(out).toBe('');
    // The proxy ends the stream at 300 ms, well before the CLI's own guard (duration + 5 s).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('`meshlet tap` exits 1 with a message when the admin port is unreachable', async () => {
    const port = await closedPort();
    const cli = spawn(process.execPath, [BIN, 'tap', '--admin', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    cli.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => cli.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(err).toContain('cannot reach the admin port');
  });
});
