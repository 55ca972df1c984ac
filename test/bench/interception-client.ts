// The load generator and server of the interception bench, run inside rig
// pods by test/bench/interception.ts: `node interception-client.js MODE JSON`
// prints one JSON result line. Modes:
//   serve   bulk source on 7001 (1 byte in → `bytes` out, then FIN), 1-byte echo on 7002 and on
//           each of `ports`, HTTP on 8080
//   bulk    `count` sequential transfers of `bytes` from host:port (client speaks first, 1 byte)
//   short   `count` short connections (connect, 1 byte there and back, close), `concurrency` at a
//           time; with `ports`, connection i goes to ports[i % ports.length] instead of `port`
//
// Why `ports`: the client closes first, so each short connection leaves a
// TIME_WAIT socket (60 s) in the client pod, and through a sidecar two (the
// sidecar passes the FIN on, so it closes its upstream leg first too). All of
// them share one 4-tuple space per destination ip:port: 28,232 ephemeral ports.
// 10,000 connections per cell to one port exhaust it within a round; connect()
// then scans a nearly full table (slow, and in the sidecar it blocks the event
// loop) or fails with EADDRNOTAVAIL. Spreading over ports keeps every space far
// from full, so the figures measure the proxy, not the port allocator.
//   http    closed-loop keep-alive HTTP/1.1 (autocannon) for `seconds`
//   httpShort `count` HTTP requests, each on its own connection (Connection: close)
import http from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

interface Opts {
  readonly host: string;
  readonly port: number;
  readonly bytes?: number;
  readonly count?: number;
  readonly concurrency?: number;
  readonly seconds?: number;
  readonly connections?: number;
  readonly hostHeader?: string;
  readonly ports?: readonly number[];
}

export interface LatencyResult {
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(lat: number[], units: number, elapsedMs: number, errors: number): LatencyResult {
  lat.sort((a, b) => a - b);
  return { perSec: (units * 1000) / elapsedMs, p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), errors };
}

function serve(bytes: number, echoPorts: readonly number[]): void {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => {
      let left = bytes;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
  }).listen(7001);
  const echo = (s: Socket): void => {
    s.on('error', () => {});
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
  };
  for (const port of [7002, ...echoPorts]) createServer(echo).listen(port);
  const body = Buffer.from('hello\n');
  http.createServer({ keepAliveTimeout: 60_000 }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  }).listen(8080, () => console.log('LISTENING'));
}

function oneTransfer(o: Opts): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let got = 0;
    const s = connect({ host: o.host, port: o.port, noDelay: true }, () => s.write(Buffer.from([0])));
    s.on('data', (d: Buffer) => (got += d.length));
    s.on('end', () => {
      s.destroy();
      if (got === o.bytes) resolve(performance.now() - t0);
      else reject(new Error(`got ${got} of ${String(o.bytes)} bytes`));
    });
    s.on('error', reject);
  });
}

async function bulk(o: Opts): Promise<LatencyResult & { mibPerSec: number }> {
  const lat: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  for (let i = 0; i < (o.count ?? 20); i++) {
    try {
      lat.push(await oneTransfer(o));
    } catch {
      errors++;
    }
  }
  const elapsed = performance.now() - t0;
  const r = summary(lat, lat.length, elapsed, errors);
  return { ...r, mibPerSec: (lat.length * (o.bytes ?? 0)) / (1024 * 1024) / (elapsed / 1000) };
}

/** One short exchange on its own connection: `payload` out, until `done(received)` says the answer is complete. */
function exchange(o: Opts, port: number, payload: Buffer, done: (got: number, last: Buffer) => boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let got = 0;
    const s: Socket = connect({ host: o.host, port, noDelay: true }, () => s.write(payload));
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (done(got, d)) {
        s.destroy();
        resolve(performance.now() - t0);
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed early')));
  });
}

/** The destination port of short connection i: spread over `ports` when given (see the header comment). */
function shortPort(o: Pick<Opts, 'port' | 'ports'>, i: number): number {
  const ports = o.ports ?? [];
  return ports.length > 0 ? ports[i % ports.length]! : o.port;
}

async function manyShort(o: Opts, one: (i: number) => Promise<number>): Promise<LatencyResult> {
  const count = o.count ?? 1000;
  const lat: number[] = [];
  let errors = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        lat.push(await one(i));
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
  return summary(lat, lat.length, performance.now() - t0, errors);
}

async function httpClosedLoop(o: Opts): Promise<LatencyResult> {
  const r = await autocannon({
    url: `http://${o.host}:${o.port}/`,
    connections: o.connections ?? 16,
    duration: o.seconds ?? 3,
    headers: { host: o.hostHeader ?? o.host },
    timeout: 10,
  });
  const secs = (r.finish.getTime() - r.start.getTime()) / 1000;
  return { perSec: secs > 0 ? r['2xx'] / secs : 0, p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.non2xx };
}

async function main(): Promise<void> {
  const [mode, json] = process.argv.slice(2);
  const o = JSON.parse(json ?? '{}') as Opts;
  if (mode === 'serve') return serve(o.bytes ?? 1024 * 1024, o.ports ?? []);
  let out: unknown;
  if (mode === 'bulk') out = await bulk(o);
  else if (mode === 'short') out = await manyShort(o, (i) => exchange(o, shortPort(o, i), Buffer.from([0]), (got) => got >= 1));
  else if (mode === 'httpShort') {
    const req = Buffer.from(`GET / HTTP/1.1\r\nhost: ${o.hostHeader ?? o.host}\r\nconnection: close\r\n\r\n`);
    // The response ends with the 6-byte body "hello\n".
    out = await manyShort(o, (i) => exchange(o, shortPort(o, i), req, (_got, last) => last.toString('latin1').endsWith('hello\n')));
  } else if (mode === 'http') out = await httpClosedLoop(o);
  else throw new Error(`unknown mode ${String(mode)}`);
  console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
