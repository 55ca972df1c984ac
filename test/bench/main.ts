// `npm run bench`: self-contained comparison of Meshlet against no proxy and
// bare Node/native forwarders, interleaved rounds, medians and spreads.
// Flags: --quick, --rounds N, --duration S, --targets a,b, --no-features,
// --no-memory (skip the fresh-process memory probe), --soak [--soak-minutes M]
// (issue 17's soak; 10 min by default; --soak-only skips the rest), --node24 PATH (the Node 24 binary to
// compare; found by itself under /opt/node24 or MESHLET_BENCH_NODE24).
// Env: BENCH_DURATION (closed-loop seconds), BENCH_ROUNDS, BENCH_OPEN_DURATION (open-loop seconds).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { killAllChildren, nodeScript, PINNING, pinSelf, spawnChild, type Child } from './child-process.js';
import { peerArgs } from './peers/peer-args.js';
import { aggregate, renderMarkdown, renderText, type Row } from './report.js';
import { runRound, type BenchPlan, type Cell } from './run-matrix.js';
import { featureTargets, mainTargets, meshletTarget, repoRoot, type BenchContext, type TargetSpec } from './targets.js';
import { MEMORY_SIZES, probeMemory, type MemoryProbeResult } from './memory-probe.js';
import { findNode24, renderRuntimeComparison } from './node-runtimes.js';
import { runSoak, SOAK_DEFAULTS, type SoakResult } from './soak.js';
import { checkTargets, JUDGED, JUDGED_POD, renderTargetsMarkdown, renderTargetsText } from './issue17-targets.js';
import { scaleChecks } from './micro/scale-checks.js';
import { controlPlaneChecks } from './control-plane-scale.js';

export function planFor(quick: boolean, env: NodeJS.ProcessEnv, args: ReadonlyMap<string, string>): BenchPlan {
  const rounds = Number(args.get('rounds') ?? env['BENCH_ROUNDS'] ?? (quick ? 1 : 3));
  const closedSec = Number(args.get('duration') ?? env['BENCH_DURATION'] ?? (quick ? 1 : 4));
  const openSec = Number(env['BENCH_OPEN_DURATION'] ?? (quick ? 1 : 3));
  return quick
    ? { rounds, closedSizes: ['small'], closedSec, warmupSec: 0.5, closedConnections: 50, open: [{ size: 'small', rate: 1000 }], openMs: openSec * 1000, openConnections: 16 }
    : {
        rounds, closedSizes: ['small', 'kib1', 'kib64', 'post16'], closedSec, warmupSec: 1, closedConnections: 50,
        open: [{ size: 'small', rate: 1000 }, { size: 'small', rate: 5000 }, { size: 'kib1', rate: 1000 }, { size: 'kib64', rate: 1000 }, { size: 'post16', rate: 1000 }],
        openMs: openSec * 1000, openConnections: 16,
      };
}

/** OTLP/HTTP sink: drains the export and answers 200, nothing else. */
async function startOtlpSink(): Promise<http.Server> {
  const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/x-protobuf' }); res.end(); }); });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}

async function runSet(targets: readonly TargetSpec[], ctx: BenchContext, plan: BenchPlan, cells: Cell[], rss: Map<string, number[]>, notes: string[]): Promise<void> {
  const runnable = targets.filter((t) => {
    const why = t.skipReason();
    if (why !== null) { notes.push(`skipped ${t.name}: ${why}`); console.log(`skip ${t.name}: ${why}`); }
    return why === null;
  });
  // Interleaved: every target once per round (A B A B), so host drift hits all alike.
  for (let round = 0; round < plan.rounds; round++) {
    for (const t of runnable) {
      try {
        const r = await runRound(t, ctx, plan, round, (s) => console.log(s));
        cells.push(...r.cells);
        const list = rss.get(t.name) ?? [];
        list.push(r.peakRssMiB);
        rss.set(t.name, list);
      } catch (err) {
        const msg = `${t.name} round ${round} failed: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}`;
        notes.push(msg);
        console.log(msg);
      }
    }
  }
}

async function optionalBench(modPath: string, fn: string): Promise<unknown> {
  try {
    const mod = (await import(modPath)) as Record<string, unknown>;
    const f = mod[fn];
    if (typeof f !== 'function') return { skipped: `${fn} not exported by ${modPath}` };
    return await (f as () => Promise<unknown>)();
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { skipped: code === 'ERR_MODULE_NOT_FOUND' ? `${modPath} not present` : String(err) };
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = peerArgs(argv);
  const soakOnly = args.has('soak-only');
  const quick = args.has('quick') || soakOnly;
  const plan = planFor(quick, process.env, args);
  const only = args.get('targets')?.split(',');
  const pinned = pinSelf();
  const notes: string[] = [
    `Meshlet bench, ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}).`,
    pinned && PINNING ? 'Placement: proxy under test on CPU 1 (taskset -c 1); load generator and upstream on CPU 0.' : 'Placement: no pinning (taskset missing or <2 CPUs).',
    `Plan: ${plan.rounds} interleaved round(s); closed loop autocannon ${plan.closedConnections} conns ${plan.closedSec}s (+${plan.warmupSec}s warm-up); open loop ${plan.open.map((o) => `${o.size}@${o.rate}/s`).join(', ')} for ${plan.openMs / 1000}s over ${plan.openConnections} conns, latency from scheduled release.`,
    'Columns: medians over rounds; spread = (max−min)/median req/s; +p50/+p99 = added over direct in the same run; ×undici = vs the dispatch() forwarder; foreign CPU = CPUs used by other processes during the cell (2.0 = host saturated: distrust that row).',
  ];
  const node24 = findNode24(args.get('node24'), repoRoot());
  notes.push(typeof node24 === 'string' ? `Node 24 comparison skipped: ${node24}` : `Node 24 comparison: ${node24.path} (${node24.version}) as target meshlet-node24.`);
  notes.push(`Machine load at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (1/5/15-min load average on ${cpus().length} CPUs); throughput and latency ratios on a loaded host are noisy, RSS much less so.`);
  console.log(notes.join('\n'));
  const tmpDir = mkdtempSync(path.join(tmpdir(), 'meshlet-bench-'));
  const children: Child[] = [];
  let otlp: http.Server | null = null;
  try {
    const up = await spawnChild({ cmd: nodeScript('peers/upstream'), cpu: 0 });
    children.push(up);
    const mirror = await spawnChild({ cmd: nodeScript('peers/upstream'), cpu: 0 });
    children.push(mirror);
    otlp = await startOtlpSink();
    const ctx: BenchContext = { upstreamPort: up.port, upstreamPid: up.pid, mirrorPort: mirror.port, otlpPort: (otlp.address() as AddressInfo).port, tmpDir };
    const cells: Cell[] = [];
    const rss = new Map<string, number[]>();
    const pick = (ts: TargetSpec[]): TargetSpec[] => (only ? ts.filter((t) => only.includes(t.name) || t.name === 'direct') : ts);
    const node24Target = typeof node24 === 'string' ? [] : [meshletTarget('meshlet-node24', `meshlet defaults on ${node24.version}`, { allFeatures: false, accessLog: 'file', metrics: true, traceRate: 0, nodePath: node24.path })];
    const mains = soakOnly ? [] : pick([...mainTargets(), ...node24Target]);
    await runSet(mains, ctx, plan, cells, rss, notes);
    let featureRows: Row[] = [];
    if (!quick && !args.has('no-features')) {
      const fPlan: BenchPlan = { ...plan, closedSizes: ['small'], open: [{ size: 'small', rate: 1000 }] };
      const fCells: Cell[] = [];
      await runSet(pick(featureTargets()), ctx, fPlan, fCells, rss, notes);
      featureRows = aggregate(fCells, new Map(featureTargets().map((t) => [t.name, t.label])), rss);
    }
    const rows = aggregate(cells, new Map(mains.map((t) => [t.name, t.label])), rss);
    const mem = new Map<string, MemoryProbeResult>();
    if (!args.has('no-memory')) {
      for (const t of mains.filter((m) => m.name === JUDGED || m.name === 'meshlet-node24')) {
        try {
          const r = await probeMemory(t, ctx, { idleMs: 2000, loadMs: quick ? 2000 : 5000, rate: 1000, sizes: MEMORY_SIZES });
          mem.set(t.name, r);
          console.log(`memory ${t.name}: idle ${r.idleRssMiB.toFixed(1)} MiB (heap ${r.idleHeapUsedMiB.toFixed(1)}), peak ${r.peakRssMiB.toFixed(1)} MiB`);
        } catch (err) { notes.push(`memory probe of ${t.name} failed: ${String(err).slice(0, 300)}`); }
      }
      // Memory only: what a pod runs (fed by a control plane) differs from --config mode in the modules it loads.
      const pod = meshletTarget(JUDGED_POD, 'meshlet defaults, fed by a control plane (as in a pod)', { allFeatures: false, accessLog: 'file', metrics: true, traceRate: 0, controlPlane: true });
      try {
        const r = await probeMemory(pod, ctx, { idleMs: 2000, loadMs: quick ? 2000 : 5000, rate: 1000, sizes: MEMORY_SIZES });
        mem.set(pod.name, r);
        console.log(`memory ${pod.name}: idle ${r.idleRssMiB.toFixed(1)} MiB (heap ${r.idleHeapUsedMiB.toFixed(1)}), peak ${r.peakRssMiB.toFixed(1)} MiB`);
      } catch (err) { notes.push(`memory probe of ${pod.name} failed: ${String(err).slice(0, 300)}`); }
    }
    let soak: SoakResult | undefined;
    if (args.has('soak') || soakOnly) {
      const minutes = Number(args.get('soak-minutes') ?? SOAK_DEFAULTS.minutes);
      soak = await runSoak(ctx, { ...SOAK_DEFAULTS, minutes }, (s) => console.log(s));
    }
    const micro = quick ? { skipped: '--quick' } : await optionalBench('./micro/route-and-pick.js', 'runMicroBench');
    const cpScale = quick ? { skipped: '--quick' } : await optionalBench('./control-plane-scale.js', 'runControlPlaneScaleSuite');
    const checks = [...checkTargets(rows, mem.get(JUDGED), soak, mem.get(JUDGED_POD)), ...scaleChecks(micro), ...controlPlaneChecks(cpScale)];
    // Interception (issue 12): TCP passthrough vs direct and the cost of sniffing, in rig pods (needs root).
    const interception = quick ? { skipped: '--quick (run node dist/test/bench/interception.js --quick)' } : await optionalBench('./interception.js', 'runInterceptionBench');
    // gRPC (issue 13): unary via sidecar vs direct, proxy CPU per call, RSS with 1,000 open streams.
    const grpcBench = quick ? { skipped: '--quick (run node dist/test/bench/grpc.js --quick)' } : await optionalBench('./grpc.js', 'runGrpcBench');
    console.log('\n' + renderText(rows));
    if (featureRows.length > 0) console.log('\nCost of features\n' + renderText(featureRows));
    console.log(`\nIssue 17 targets (${JUDGED})\n` + renderTargetsText(checks));
    const runtimes = typeof node24 === 'string' ? null : renderRuntimeComparison(rows, JUDGED, 'meshlet-node24', mem.get(JUDGED), mem.get('meshlet-node24'), [process.version, node24.version]);
    if (runtimes !== null) console.log('\nNode runtimes\n' + runtimes);
    const root = repoRoot();
    writeFileSync(path.join(root, 'bench-results.json'), JSON.stringify({ notes, plan, rows, featureRows, cells, memory: Object.fromEntries(mem), soak, targets: checks, micro, controlPlaneScale: cpScale, interception, grpc: grpcBench }, null, 2));
    const md = ['## Benchmark results', '', `### Issue 17 targets (${JUDGED}, this run)`, '', renderTargetsMarkdown(checks), renderMarkdown(rows, notes)];
    if (runtimes !== null) md.push('### Node runtimes (same sidecar, same run)', '', runtimes);
    if (mem.size > 0) md.push('### Memory probe (fresh process, 1,000 req/s open loop)', '', '```json', JSON.stringify(Object.fromEntries(mem), null, 2), '```', '');
    if (soak !== undefined) md.push(`### Soak (${soak.minutes} min: ${SOAK_DEFAULTS.rate} req/s small/64 KiB, ${SOAK_DEFAULTS.abortFraction * 100}% client aborts, endpoint churn + config push every ${SOAK_DEFAULTS.pushEveryMs / 1000} s)`, '',
      `completed ${soak.completed}, aborted ${soak.aborted}, errors ${soak.errors}, pushes ${soak.pushes}; RSS slope ${soak.rssSlopeMiBPerHour.toFixed(1)} MiB/h, heap slope ${soak.heapSlopeMiBPerHour.toFixed(1)} MiB/h (fitted over the per-60 s minimum after the first quarter).`, '');
    if (featureRows.length > 0) md.push('### Cost of features', '', renderMarkdown(featureRows, []));
    md.push('### Micro-benchmarks', '', '```json', JSON.stringify(micro, null, 2), '```', '', '### Control-plane scale', '', '```json', JSON.stringify(cpScale, null, 2), '```', '', '### Interception', '', '```json', JSON.stringify(interception, null, 2), '```', '', '### gRPC (sidecar vs direct)', '', '```json', JSON.stringify(grpcBench, null, 2), '```', '');
    writeFileSync(path.join(root, 'bench-results.md'), md.join('\n'));
    console.log(`\nwrote ${path.join(root, 'bench-results.json')} and bench-results.md`);
    return 0;
  } finally {
    for (const c of children) await c.stop();
    killAllChildren();
    if (otlp) otlp.close();
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

process.on('SIGINT', () => { killAllChildren(); process.exit(130); });
process.on('SIGTERM', () => { killAllChildren(); process.exit(143); });
main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => { killAllChildren(); console.error(err); process.exit(1); });
