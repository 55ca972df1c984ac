// Issue 17 memory experiments: the bench's fresh-process memory probe run on
// meshlet-default under several V8/libc variants, interleaved over rounds,
// medians printed. `npm run build && node dist/test/bench/memory-variants.js
// [--rounds N] [--load-ms MS] [--variants name,name]`. RSS barely depends on
// host load, so this is usable on a shared machine; throughput is not measured.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killAllChildren, nodeScript, pinSelf, spawnChild, type Child } from './child-process.js';
import { MEMORY_SIZES, probeMemory } from './memory-probe.js';
import { peerArgs } from './peers/peer-args.js';
import { meshletTarget, repoRoot, type BenchContext, type TargetSpec } from './targets.js';
import { findNode24 } from './node-runtimes.js';
import { SIDECAR_V8_FLAGS } from '../../proxy/heap-flags.js';

interface Variant {
  readonly name: string;
  /** A bare forwarder from peers/ instead of the sidecar (what the HTTP client alone costs). */
  readonly peer?: readonly string[];
  /** V8/Node flags after the shipped ones (proxy/heap-flags.ts). */
  readonly flags: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Run the sidecar on the Node 24 binary (found as the bench finds it) instead of this Node. */
  readonly node24?: boolean;
  /** Feed the sidecar from a control plane (as in a pod) instead of --config. */
  readonly controlPlane?: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: 'shipped', flags: [] },
  { name: 'control-plane-fed', flags: [], controlPlane: true },
  // The shipped flags' CPU/memory trade-off, one flag taken back at a time (V8: the last of --x / --no-x wins).
  { name: 'no-optimize-for-size', flags: ['--no-optimize-for-size'] },
  { name: 'heap-growing-10', flags: ['--no-optimize-for-size', '--heap-growing-percent=10'] },
  { name: 'heap-growing-25', flags: ['--no-optimize-for-size', '--heap-growing-percent=25'] },
  { name: 'semi-space-only', flags: ['--no-optimize-for-size', '--no-liftoff-only'] },
  { name: 'single-threaded', flags: ['--single-threaded'] },
  // Node 24 idles ~15 MiB above Node 20 with the same sidecar: its V8 adds the Maglev tier and Sparkplug by default.
  { name: 'node24', flags: [], node24: true },
  { name: 'node24-no-maglev', flags: ['--no-maglev'], node24: true },
  { name: 'node24-no-maglev-no-sparkplug', flags: ['--no-maglev', '--no-sparkplug'], node24: true },
  { name: 'arena-2', flags: [], env: { MALLOC_ARENA_MAX: '2' } },
  { name: 'single-threaded+arena-1', flags: ['--single-threaded'], env: { MALLOC_ARENA_MAX: '1' } },
  // HTTP/1.1 upstreams through node:http instead of undici (MESHLET_UPSTREAM_HTTP1_CLIENT, proxy/pipeline/outbound.ts).
  { name: 'node-http-client', flags: [], env: { MESHLET_UPSTREAM_HTTP1_CLIENT: 'node' } },
  // The two HTTP/1.1 clients alone, same V8 flags: node:http's native llhttp vs undici's WebAssembly llhttp.
  { name: 'peer-node-http', flags: [], peer: ['peers/bare-node-http'] },
  { name: 'peer-undici-dispatch', flags: [], peer: ['peers/bare-undici', '--variant', 'dispatch'] },
];

function peerSpec(v: Variant): TargetSpec {
  const [script, ...rest] = v.peer ?? [];
  return {
    name: v.name, label: v.name, skipReason: () => null,
    async start(ctx) {
      const [node, ...tail] = nodeScript(script ?? '');
      const c = await spawnChild({ cmd: [node ?? process.execPath, ...SIDECAR_V8_FLAGS, ...tail, '--upstream', `http://127.0.0.1:${ctx.upstreamPort}`, ...rest], cpu: 1 });
      const death = (): string | null => (c.proc.exitCode === null && c.proc.signalCode === null ? null : `exited: ${c.output().slice(-300)}`);
      return { port: c.port, pid: c.pid, hostHeader: '127.0.0.1', death, stop: c.stop };
    },
  };
}

function node24Path(): string {
  const n = findNode24(undefined, repoRoot());
  if (typeof n === 'string') throw new Error(n);
  return n.path;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
}

async function main(): Promise<void> {
  const args = peerArgs(process.argv.slice(2));
  const rounds = Number(args.get('rounds') ?? 3);
  const loadMs = Number(args.get('load-ms') ?? 4000);
  const only = args.get('variants')?.split(',');
  const variants = only ? VARIANTS.filter((v) => only.includes(v.name)) : VARIANTS;
  pinSelf();
  const tmpDir = mkdtempSync(path.join(tmpdir(), 'meshlet-memvar-'));
  const children: Child[] = [];
  const results = new Map<string, { idle: number[]; heap: number[]; peak: number[] }>();
  try {
    const up = await spawnChild({ cmd: nodeScript('peers/upstream'), cpu: 0 });
    children.push(up);
    const ctx: BenchContext = { upstreamPort: up.port, upstreamPid: up.pid, mirrorPort: up.port, otlpPort: 9, tmpDir };
    for (let round = 0; round < rounds; round++) {
      for (const v of variants) {
        const saved: Record<string, string | undefined> = {};
        for (const [k, val] of Object.entries(v.env ?? {})) { saved[k] = process.env[k]; process.env[k] = val; }
        try {
          const spec = v.peer !== undefined ? peerSpec(v) : meshletTarget(`memvar-${v.name}`, v.name, { allFeatures: false, accessLog: 'file', metrics: true, traceRate: 0, nodeFlags: v.flags, controlPlane: v.controlPlane === true, ...(v.node24 === true ? { nodePath: node24Path() } : {}) });
          const r = await probeMemory(spec, ctx, { idleMs: 2000, loadMs, rate: 1000, sizes: MEMORY_SIZES });
          const acc = results.get(v.name) ?? { idle: [], heap: [], peak: [] };
          acc.idle.push(r.idleRssMiB); acc.heap.push(r.idleHeapUsedMiB); acc.peak.push(r.peakRssMiB);
          results.set(v.name, acc);
          console.log(`round ${round} ${v.name}: idle ${r.idleRssMiB.toFixed(1)} heap ${r.idleHeapUsedMiB.toFixed(1)} peaks ${r.peakAfter.map((p) => `${p.size} ${p.peakRssMiB.toFixed(1)} (p99 ${(p.p99Us / 1000).toFixed(1)} ms)`).join(', ')}`);
        } finally {
          for (const [k, val] of Object.entries(saved)) { if (val === undefined) delete process.env[k]; else process.env[k] = val; }
        }
      }
    }
    console.log('\nvariant | idle RSS MiB (median, min–max) | idle heap | peak RSS MiB (median, min–max)');
    for (const [name, r] of results) {
      console.log(`${name} | ${median(r.idle).toFixed(1)} (${Math.min(...r.idle).toFixed(1)}–${Math.max(...r.idle).toFixed(1)}) | ${median(r.heap).toFixed(1)} | ${median(r.peak).toFixed(1)} (${Math.min(...r.peak).toFixed(1)}–${Math.max(...r.peak).toFixed(1)})`);
    }
  } finally {
    for (const c of children) await c.stop();
    killAllChildren();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

await main();
