// Issue 17's targets, checked against one bench run: each with the measured
// figure, the bound and ✔/✘. Throughput and latency come from the main table
// (meshlet defaults vs the bare forwarders and direct in the same run); memory
// from the fresh-process probe at 1,000 req/s; flatness from the soak, when run.
import type { MemoryProbeResult } from './memory-probe.js';
import type { Row } from './report.js';
import type { SoakResult } from './soak.js';

export interface TargetCheck {
  /** 'scale' checks come from the micro-bench (micro/scale-checks.ts); 'control plane' from control-plane-scale.ts. */
  readonly area: 'memory' | 'throughput' | 'latency' | 'soak' | 'scale' | 'control plane';
  readonly what: string;
  /** The measured figure, in the unit of `bound`. */
  readonly measured: number;
  readonly bound: string;
  /** null when the run lacks the rows to judge it. */
  readonly pass: boolean | null;
}

/** The target the issue judges: Meshlet with its defaults on. */
export const JUDGED = 'meshlet-default';
const SIZES = ['small', 'kib1', 'kib64', 'post16'] as const;

/** The same sidecar fed by a control plane (token, CA, workload certificate), as in a pod: memory only. */
export const JUDGED_POD = 'meshlet-default-cp';

export function checkTargets(rows: readonly Row[], mem: MemoryProbeResult | undefined, soak: SoakResult | undefined, podMem?: MemoryProbeResult): TargetCheck[] {
  const row = (target: string, load: string, size: string): Row | undefined => rows.find((r) => r.target === target && r.load === load && r.size === size);
  const out: TargetCheck[] = [];
  const judge = (area: TargetCheck['area'], what: string, measured: number | undefined, bound: string, ok: (x: number) => boolean): void => {
    const m = measured ?? NaN;
    out.push({ area, what, measured: m, bound, pass: Number.isFinite(m) ? ok(m) : null });
  };
  if (mem !== undefined) {
    judge('memory', 'idle RSS (MiB, after start-up and a first request)', mem.idleRssMiB, '≤ 45', (x) => x <= 45);
    for (const p of mem.peakAfter) judge('memory', `peak RSS at 1,000 req/s through ${p.size} (MiB, VmHWM so far)`, p.peakRssMiB, '≤ 60', (x) => x <= 60);
  }
  if (podMem !== undefined) {
    judge('memory', 'fed by a control plane, as in a pod: idle RSS (MiB)', podMem.idleRssMiB, '≤ 45', (x) => x <= 45);
    judge('memory', 'fed by a control plane, as in a pod: peak RSS after small, 64 KiB, POST 16 KiB (MiB)', podMem.peakRssMiB, '≤ 60', (x) => x <= 60);
  }
  for (const size of SIZES) {
    const r = row(JUDGED, 'max', size);
    judge('throughput', `${size}: × undici dispatch() forwarder`, r?.xUndici, '≥ 0.90', (x) => x >= 0.9);
    judge('throughput', `${size}: × http-proxy`, r?.xHttpProxy, '≥ 1.00', (x) => x >= 1.0);
  }
  const small = row(JUDGED, '1000/s', 'small');
  judge('latency', 'small @1,000/s: added p50 over direct (µs)', small?.addedP50Us, '≤ 300', (x) => x <= 300);
  judge('latency', 'small @1,000/s: added p99 over direct (µs)', small?.addedP99Us, '≤ 1,000', (x) => x <= 1000);
  const k64 = row(JUDGED, '1000/s', 'kib64');
  const k64u = row('undici-dispatch', '1000/s', 'kib64');
  judge('latency', '64 KiB @1,000/s: p99 minus bare undici p99 (µs)', k64 && k64u ? k64.p99Us - k64u.p99Us : undefined, '≤ 1,000', (x) => x <= 1000);
  if (soak !== undefined) {
    judge('soak', `heap used slope over ${soak.minutes} min (MiB/hour)`, soak.heapSlopeMiBPerHour, '≤ 5 (flat)', (x) => x <= 5);
    judge('soak', `RSS slope over ${soak.minutes} min (MiB/hour)`, soak.rssSlopeMiBPerHour, '≤ 10 (flat)', (x) => x <= 10);
  }
  return out;
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '–');
const mark = (p: boolean | null): string => (p === null ? '?' : p ? '✔' : '✘');

export function renderTargetsText(checks: readonly TargetCheck[]): string {
  const w = Math.max(...checks.map((c) => c.what.length));
  return checks.map((c) => `${mark(c.pass)} ${c.area.padEnd(10)} ${c.what.padEnd(w)}  ${fmt(c.measured).padStart(9)}  ${c.bound}`).join('\n');
}

export function renderTargetsMarkdown(checks: readonly TargetCheck[]): string {
  const lines = ['| | area | target | measured | bound |', '|---|---|---|--:|---|'];
  for (const c of checks) lines.push(`| ${mark(c.pass)} | ${c.area} | ${c.what} | ${fmt(c.measured)} | ${c.bound} |`);
  return lines.join('\n') + '\n';
}
