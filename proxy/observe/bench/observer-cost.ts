// Per-request cost of the composed observer (onStart + onComplete), and of an
// access-log line. Usage: npx tsx proxy/observe/bench/observer-cost.ts
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { Flag } from '../../errors/index.js';
import type { Exchange } from '../../exchange/index.js';
import { AccessLog } from '../access-log.js';
import { destination, endpoint, makeExchange } from '../exchange-fixture.js';
import { createObservers, type ObserversOptions } from '../index.js';

const N = 200_000;
const WARM = 20_000;
const dest = destination('reviews');
const eps = [endpoint('10.0.0.7:9080', 'reviews', 'v1'), endpoint('10.0.0.8:9080', 'reviews', 'v2')];
const incoming = { 'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '0', 'x-request-id': 'abc' };
// Exchanges are pre-built so we time the observers, not the fixture.
const pool: Exchange[] = [];
for (let i = 0; i < 1024; i++) {
  const ex = makeExchange('outbound', { ...incoming });
  ex.destination = dest;
  ex.endpoint = eps[i & 1];
  ex.path = '/reviews/1';
  ex.status = i % 50 === 0 ? 503 : 200;
  ex.flags = i % 50 === 0 ? Flag.UF : 0;
  ex.durationMs = 3;
  ex.bytesOut = 220;
  pool.push(ex);
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Runs in batches of 500 and yields between them, as a server would, so async writes drain. */
async function time(label: string, fn: (ex: Exchange) => void): Promise<void> {
  for (let i = 0; i < WARM; i++) fn(pool[i & 1023]!);
  await tick();
  let ns = 0;
  for (let done = 0; done < N; done += 500) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 500; i++) fn(pool[(done + i) & 1023]!);
    ns += Number(process.hrtime.bigint() - t0);
    await tick();
  }
  console.log(`${label}: ${(ns / N).toFixed(0)} ns/request`);
}

function reset(ex: Exchange): void {
  ex.requestId = '';
  ex.trace = undefined;
  ex.span = undefined;
}

const base: ObserversOptions = {
  workload: 'productpage-v1', namespace: 'default', labels: { app: 'productpage', version: 'v1' },
  accessLog: 'off', metrics: true,
  tracing: { sampleRate: 0.01, inject: { multi: true, single: false, w3c: false }, serviceName: 'productpage', env: {} },
};
const file = join(tmpdir(), `meshlet-bench-${process.pid}.log`);
for (const [label, opts] of [
  ['request-id + B3 (unsampled) + Istio metrics + tap(idle)', base],
  ['… + access log to a file', { ...base, accessLog: file }],
] as const) {
  const obs = await createObservers(opts);
  await time(label, (ex) => {
    reset(ex);
    const h: Record<string, string | string[]> = {};
    obs.observer.onStart(ex, h);
    obs.observer.onComplete(ex);
  });
  await obs.close();
}
const log = new AccessLog({ target: file });
await time('access log line alone', (ex) => log.onComplete(ex));
await log.close();
rmSync(file, { force: true });
// prom-client itself requires @opentelemetry/api (exemplars); the SDK must not be loaded.
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('@opentelemetry') && !k.includes('@opentelemetry/api/'));
console.log(`OTel SDK modules loaded without export configured: ${loaded.length}`);
