// First-byte latency of a 1 MiB upload through the sidecar: the time from the
// client writing the first byte of a POST body to the upstream reading its
// first byte, plus the time to the whole body. Shows what streaming with a
// bounded replay copy changed: a body within --buffer-limit used to be read
// whole before a byte went upstream.
// Usage: npx tsx test/bench/upload-first-byte.ts [path/to/bin/meshlet.js] [runs=30] [extra meshlet args...]
// (default: this checkout's bin/meshlet.js; `npm run build` first).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const bin = resolve(process.argv[2] ?? 'bin/meshlet.js');
const RUNS = Number(process.argv[3] ?? 30);
const extra = process.argv.slice(4);
const SIZE = 1024 * 1024;
const CHUNK = 64 * 1024;
const body = Buffer.alloc(SIZE, 'x');

let firstAt = 0;
let lastAt = 0;
const upstream = createServer((req, res) => {
  req.once('data', () => (firstAt = performance.now()));
  req.on('data', () => undefined);
  req.on('end', () => {
    lastAt = performance.now();
    res.end('ok');
  });
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
const port = (upstream.address() as AddressInfo).port;
const dir = mkdtempSync(join(tmpdir(), 'meshlet-upload-'));
writeFileSync(
  join(dir, 'c.yaml'),
  `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: up, namespace: default }
spec:
  hosts: [up]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: STATIC
  endpoints: [{ address: 127.0.0.1, ports: { http: ${port} } }]
`,
);

const proc: ChildProcess = spawn(process.execPath, [bin, 'proxy', '--config', dir, '--outbound-port', '0', '--admin-port', '0', '--metrics-port', 'off', '--listen-address', '127.0.0.1', '--access-log', 'off', ...extra], {
  stdio: ['ignore', 'ignore', 'pipe'],
});
let err = '';
const outbound = await new Promise<number>((r, j) => {
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    const m = /outbound=[^ ]*:(\d+)/.exec(err);
    if (m) r(Number(m[1]));
  });
  proc.once('exit', (code) => j(new Error(`meshlet exited ${code}: ${err}`)));
});

async function once(): Promise<{ first: number; whole: number }> {
  firstAt = 0;
  const req = request({ host: '127.0.0.1', port: outbound, method: 'POST', path: '/u', headers: { host: 'up', 'content-length': SIZE }, agent: false });
  const done = new Promise<void>((r, j) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => r());
    });
    req.on('error', j);
  });
  const t0 = performance.now();
  for (let o = 0; o < SIZE; o += CHUNK) {
    if (!req.write(body.subarray(o, o + CHUNK))) await new Promise((r) => req.once('drain', r));
  }
  req.end();
  await done;
  return { first: firstAt - t0, whole: lastAt - t0 };
}

const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
for (let i = 0; i < 3; i++) await once(); // warm-up
const first: number[] = [];
const whole: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await once();
  first.push(r.first);
  whole.push(r.whole);
}
const f = (x: number): string => x.toFixed(2);
process.stdout.write(
  `1 MiB upload via ${bin} ${extra.join(' ')} (${RUNS} runs): first byte p50 ${f(q(first, 0.5))} ms p90 ${f(q(first, 0.9))} ms; whole body p50 ${f(q(whole, 0.5))} ms p90 ${f(q(whole, 0.9))} ms\n`,
);
proc.kill('SIGKILL');
upstream.close();
