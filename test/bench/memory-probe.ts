// Issue 17's memory targets, measured on a fresh sidecar: RSS once it has
// started, applied its config and answered its first request ("idle"), then
// the peak (VmHWM) after open-loop traffic at 1,000 req/s with each of the
// body shapes the target names. A fresh process per probe, so the closed-loop
// cells (50 connections flat out) do not set the peak this target is about.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { peakRssMiB } from './child-process.js';
import { runOpenLoop } from './open-loop.js';
import type { BenchContext, TargetSpec } from './targets.js';
import { UPSTREAM_PATHS, type BodySize } from './upstream-server.js';

export interface MemoryProbeResult {
  readonly target: string;
  /** VmRSS after start-up, config and one request, then `idleMs` of quiet. */
  readonly idleRssMiB: number;
  /** JS heap in use at idle (admin /memory), NaN when the target has no admin port. */
  readonly idleHeapUsedMiB: number;
  /** VmHWM after each load phase, in order: the peak so far. */
  readonly peakAfter: readonly { readonly size: BodySize; readonly peakRssMiB: number; readonly heapUsedMiB: number; readonly externalMiB: number; readonly p99Us: number }[];
  readonly peakRssMiB: number;
}

export interface MemoryProbeOptions {
  readonly idleMs: number;
  readonly loadMs: number;
  readonly rate: number;
  readonly sizes: readonly BodySize[];
}

export const MEMORY_SIZES: readonly BodySize[] = ['small', 'kib64', 'post16'];
const POST_BODY = Buffer.alloc(16 * 1024, 0x70);

/** Current RSS (VmRSS) in MiB, NaN if unavailable. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : NaN;
  } catch { return NaN; }
}

/** The sidecar's own view of its memory (GET /memory on the admin port). */
export async function adminMemory(port: number | undefined): Promise<Record<string, number> | null> {
  if (port === undefined) return null;
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/memory' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => { try { resolve(JSON.parse(body) as Record<string, number>); } catch { resolve(null); } });
    });
    req.on('error', () => resolve(null));
  });
}

export async function probeMemory(spec: TargetSpec, ctx: BenchContext, o: MemoryProbeOptions): Promise<MemoryProbeResult> {
  const t = await spec.start(ctx);
  try {
    if (t.pid === null) throw new Error(`${spec.name}: no process to measure`);
    await new Promise((r) => setTimeout(r, o.idleMs));
    const idleRss = rssMiB(t.pid);
    const mem = await adminMemory(t.adminPort);
    const peakAfter: { size: BodySize; peakRssMiB: number; heapUsedMiB: number; externalMiB: number; p99Us: number }[] = [];
    for (const size of o.sizes) {
      const shape = size === 'post16' ? { method: 'POST' as const, body: POST_BODY } : { method: 'GET' as const };
      const r = await runOpenLoop({ port: t.port, hostHeader: t.hostHeader, path: UPSTREAM_PATHS[size], rate: o.rate, durationMs: o.loadMs, warmupMs: 0, connections: 16, ...shape });
      const why = t.death();
      if (why !== null) throw new Error(`${spec.name} died during the memory probe: ${why}`);
      const m = await adminMemory(t.adminPort);
      peakAfter.push({ size, peakRssMiB: peakRssMiB(t.pid), heapUsedMiB: (m?.['heap_used'] ?? NaN) / 1048576, externalMiB: (m?.['external'] ?? NaN) / 1048576, p99Us: r.p99Us });
    }
    return {
      target: spec.name, idleRssMiB: idleRss,
      idleHeapUsedMiB: mem?.['heap_used'] !== undefined ? mem['heap_used'] / 1048576 : NaN,
      peakAfter, peakRssMiB: peakRssMiB(t.pid),
    };
  } finally {
    await t.stop();
  }
}
