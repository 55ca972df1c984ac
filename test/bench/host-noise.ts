// How busy the host was with work that is not ours during a measurement.
// Helpers share the 2-CPU machine; a run with foreign load is flagged rather
// than silently trusted.
import { readFileSync } from 'node:fs';
import { cpuMicros } from './child-process.js';

export interface NoiseMark { readonly busyUs: number; readonly wallUs: number; readonly oursUs: number }

function hostBusyMicros(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return (busy * 1e6) / 100;
  } catch { return NaN; }
}

/** Snapshot before a run; `pids` are our processes (self is always included). */
export function noiseMark(pids: readonly number[]): NoiseMark {
  let ours = cpuMicros(process.pid);
  for (const p of new Set(pids)) if (p !== process.pid) ours += cpuMicros(p);
  return { busyUs: hostBusyMicros(), wallUs: Number(process.hrtime.bigint() / 1000n), oursUs: ours };
}

/** CPU share (0–2 on 2 CPUs) used by other processes between two marks. */
export function foreignCpu(a: NoiseMark, b: NoiseMark): number {
  const wall = b.wallUs - a.wallUs;
  if (wall <= 0) return NaN;
  return Math.max(0, (b.busyUs - a.busyUs - (b.oursUs - a.oursUs)) / wall);
}
