// Runs the load cells of one round against one started target and records
// proxy CPU per request and host noise for each cell.
import { runClosedLoop } from './closed-loop.js';
import { cpuMicros, peakRssMiB } from './child-process.js';
import { foreignCpu, noiseMark } from './host-noise.js';
import { runOpenLoop } from './open-loop.js';
import type { BenchContext, RunningTarget, TargetSpec } from './targets.js';
import { UPSTREAM_PATHS, type BodySize } from './upstream-server.js';

export interface BenchPlan {
  readonly rounds: number;
  readonly closedSizes: readonly BodySize[];
  readonly closedSec: number;
  readonly warmupSec: number;
  readonly closedConnections: number;
  readonly open: readonly { readonly size: BodySize; readonly rate: number }[];
  readonly openMs: number;
  readonly openConnections: number;
}

export interface Cell {
  readonly target: string;
  readonly round: number;
  /** 'max' for closed loop, else the open-loop rate like '1000/s'. */
  readonly load: string;
  readonly size: BodySize;
  readonly reqPerSec: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly cpuUsPerReq: number;
  readonly errors: number;
  readonly foreignCpu: number;
}

export interface RoundResult { readonly cells: Cell[]; readonly peakRssMiB: number }

const POST_BODY = Buffer.alloc(16 * 1024, 0x70);

function shape(size: BodySize): { path: string; method: 'GET' | 'POST'; body?: Buffer } {
  return size === 'post16' ? { path: UPSTREAM_PATHS[size], method: 'POST', body: POST_BODY } : { path: UPSTREAM_PATHS[size], method: 'GET' };
}

export async function runRound(spec: TargetSpec, ctx: BenchContext, plan: BenchPlan, round: number, log: (s: string) => void): Promise<RoundResult> {
  const t: RunningTarget = await spec.start(ctx);
  const cells: Cell[] = [];
  const pids = t.pid === null ? [ctx.upstreamPid] : [t.pid, ctx.upstreamPid];
  const cpu = (): number => (t.pid === null ? NaN : cpuMicros(t.pid));
  try {
    for (const size of plan.closedSizes) {
      const s = shape(size);
      const base = { port: t.port, hostHeader: t.hostHeader, connections: plan.closedConnections, ...s };
      if (plan.warmupSec > 0) await runClosedLoop({ ...base, durationSec: plan.warmupSec });
      const c0 = cpu();
      const n0 = noiseMark(pids);
      const r = await runClosedLoop({ ...base, durationSec: plan.closedSec });
      const cell: Cell = {
        target: spec.name, round, load: 'max', size, reqPerSec: r.reqPerSec,
        p50Us: r.p50Ms * 1000, p90Us: NaN, p99Us: r.p99Ms * 1000, p999Us: NaN,
        cpuUsPerReq: (cpu() - c0) / Math.max(1, r.completed), errors: r.errors + r.non2xx,
        foreignCpu: foreignCpu(n0, noiseMark(pids)),
      };
      cells.push(cell);
      log(fmtCell(cell));
      assertAlive(t, spec.name);
    }
    for (const o of plan.open) {
      const s = shape(o.size);
      const base = { port: t.port, hostHeader: t.hostHeader, rate: o.rate, connections: plan.openConnections, ...s };
      const c0 = cpu();
      const n0 = noiseMark(pids);
      const r = await runOpenLoop({ ...base, durationMs: plan.openMs, warmupMs: 500 });
      const cell: Cell = {
        target: spec.name, round, load: `${o.rate}/s`, size: o.size, reqPerSec: r.count / (plan.openMs / 1000),
        p50Us: r.p50Us, p90Us: r.p90Us, p99Us: r.p99Us, p999Us: r.p999Us,
        cpuUsPerReq: (cpu() - c0) / Math.max(1, r.sent), errors: r.errors + r.non2xx + r.unanswered,
        foreignCpu: foreignCpu(n0, noiseMark(pids)),
      };
      cells.push(cell);
      log(fmtCell(cell));
      assertAlive(t, spec.name);
    }
    return { cells, peakRssMiB: t.pid === null ? NaN : peakRssMiB(t.pid) };
  } finally {
    await t.stop();
  }
}

// A target that crashed mid-round must fail loudly, not show up as a row of errors.
function assertAlive(t: RunningTarget, name: string): void {
  const why = t.death();
  if (why !== null) throw new Error(`${name} died during the run: ${why}`);
}

function fmtCell(c: Cell): string {
  const r = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
  return `  r${c.round} ${c.target.padEnd(22)} ${c.load.padEnd(7)} ${c.size.padEnd(6)} ${r(c.reqPerSec).padStart(7)} req/s  p50 ${r(c.p50Us)} p99 ${r(c.p99Us)} µs  cpu ${Number.isFinite(c.cpuUsPerReq) ? c.cpuUsPerReq.toFixed(1) : '-'} µs/req  err ${c.errors}  foreign-cpu ${c.foreignCpu.toFixed(2)}`;
}
