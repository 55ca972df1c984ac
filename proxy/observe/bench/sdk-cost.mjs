// Start-up cost of the OTel SDK that Tracing.create() loads lazily.
// Usage: node proxy/observe/bench/sdk-cost.mjs   (spawns fresh processes)
import { execFileSync } from 'node:child_process';

const child = `
const t0 = performance.now();
if (process.argv[1] === 'sdk') {
  await Promise.all([import('@opentelemetry/api'), import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-proto'), import('@opentelemetry/resources')]);
}
const ms = performance.now() - t0;
globalThis.gc?.();
console.log(JSON.stringify({ ms, rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed }));
`;
const runs = { none: [], sdk: [] };
for (let i = 0; i < 5; i++) {
  for (const mode of ['none', 'sdk']) {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', child, mode], { cwd: process.cwd() });
    runs[mode].push(JSON.parse(String(out)));
  }
}
const med = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const mode of ['none', 'sdk']) {
  const r = runs[mode];
  console.log(`${mode}: import ${med(r.map((x) => x.ms)).toFixed(1)} ms, RSS ${(med(r.map((x) => x.rss)) / 1048576).toFixed(1)} MiB, heap ${(med(r.map((x) => x.heap)) / 1048576).toFixed(1)} MiB`);
}
