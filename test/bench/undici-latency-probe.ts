// Reproduction of the undici large-body p99 finding (peers-bench.md): node:http
// upstream and an open-loop generator on CPU 0, one forwarder variant at a
// time on CPU 1, 2000 req/s over 10 keep-alive connections, interleaved rounds.
// Usage: npx tsx test/bench/undici-latency-probe.ts [--duration 5] [--rounds 2]
//        [--rate 2000] [--variants name,name] [--sizes small,kib64,post16]
// Results and their reading are in FINDINGS-undici.md.
import { UPSTREAM_PATHS, type BodySize } from './upstream-server.js';
import { runOpenLoop } from './open-loop.js';
import { killAllChildren, nodeScript, pinSelf, spawnChild, cpuMicros } from './child-process.js';
import { median } from './latency-summary.js';
import { peerArgs } from './peers/peer-args.js';
import { foreignCpu, noiseMark } from './host-noise.js';

interface Variant { readonly name: string; readonly script: string; readonly args: readonly string[] }

const VARIANTS: readonly Variant[] = [
  { name: 'direct', script: '', args: [] },
  { name: 'node-http', script: 'peers/bare-node-http', args: [] },
  { name: 'undici-stream-c64', script: 'peers/bare-undici', args: ['--variant', 'stream', '--connections', '64'] },
  { name: 'undici-stream-c10', script: 'peers/bare-undici', args: ['--variant', 'stream', '--connections', '10'] },
  { name: 'undici-stream-p10', script: 'peers/bare-undici', args: ['--variant', 'stream', '--connections', '64', '--pipelining', '10'] },
  { name: 'undici-dispatch-c64', script: 'peers/bare-undici', args: ['--variant', 'dispatch', '--connections', '64'] },
];

const POST_BODY = Buffer.alloc(16 * 1024, 0x70);

async function main(): Promise<void> {
  const a = peerArgs(process.argv.slice(2));
  const durationMs = Number(a.get('duration') ?? '5') * 1000;
  const rounds = Number(a.get('rounds') ?? '2');
  const rate = Number(a.get('rate') ?? '2000');
  const conns = Number(a.get('connections') ?? '10');
  const wanted = a.get('variants')?.split(',');
  const variants = wanted ? VARIANTS.filter((v) => wanted.includes(v.name)) : VARIANTS;
  const sizes = (a.get('sizes')?.split(',') ?? ['small', 'kib64', 'post16']) as BodySize[];
  const extra = a.get('extra')?.split(' ') ?? [];
  const pinned = pinSelf();
  console.log(`probe: rate ${rate}/s, ${conns} conns, ${durationMs / 1000}s x ${rounds} rounds, pinned=${pinned}`);
  const up = await spawnChild({ cmd: nodeScript('peers/upstream'), cpu: 0 });
  const results = new Map<string, { p50: number[]; p99: number[]; p999: number[]; cpu: number[] }>();
  try {
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        const child = v.script === ''
          ? { pid: up.pid, port: up.port, stop: async (): Promise<void> => {} }
          : await spawnChild({ cmd: [...nodeScript(v.script), '--upstream', `http://127.0.0.1:${up.port}`, ...v.args, ...extra], cpu: 1 });
        try {
          for (const size of sizes) {
            const isPost = size === 'post16';
            const opts = { port: child.port, path: UPSTREAM_PATHS[size], method: isPost ? 'POST' as const : 'GET' as const, rate, connections: conns, ...(isPost ? { body: POST_BODY } : {}) };
            await runOpenLoop({ ...opts, durationMs: 1000 }); // warm-up: JIT + connection pools
            const cpu0 = cpuMicros(child.pid);
            const n0 = noiseMark([child.pid, up.pid]);
            const res = await runOpenLoop({ ...opts, durationMs });
            const foreign = foreignCpu(n0, noiseMark([child.pid, up.pid]));
            const cpuUs = (cpuMicros(child.pid) - cpu0) / Math.max(1, res.count);
            const key = `${v.name} ${size}`;
            const acc = results.get(key) ?? { p50: [], p99: [], p999: [], cpu: [] };
            acc.p50.push(res.p50Us); acc.p99.push(res.p99Us); acc.p999.push(res.p999Us); acc.cpu.push(cpuUs);
            results.set(key, acc);
            console.log(`  r${r} ${key.padEnd(28)} p50 ${f(res.p50Us)} p90 ${f(res.p90Us)} p99 ${f(res.p99Us)} p99.9 ${f(res.p999Us)} max ${f(res.maxUs)} µs  cpu ${cpuUs.toFixed(1)} µs/req  lag99 ${f(res.sendLagP99Us)} err ${res.errors + res.non2xx + res.unanswered} foreign ${foreign.toFixed(2)}`);
          }
        } finally { await child.stop(); }
      }
    }
  } finally {
    killAllChildren();
    await up.stop();
  }
  console.log('\nmedians (µs): variant size | p50 | p99 | p99.9 | cpu µs/req');
  for (const [k, v] of results) console.log(`| ${k} | ${f(median(v.p50))} | ${f(median(v.p99))} | ${f(median(v.p999))} | ${median(v.cpu).toFixed(1)} |`);
}

function f(x: number): string { return Number.isFinite(x) ? Math.round(x).toString() : '-'; }

process.on('SIGINT', () => { killAllChildren(); process.exit(130); });
process.on('SIGTERM', () => { killAllChildren(); process.exit(143); });
main().catch((err: unknown) => { killAllChildren(); console.error(err); process.exit(1); });
