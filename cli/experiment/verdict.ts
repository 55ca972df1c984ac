// The hypothesis (steady state) checked per phase, abortWhen per second, and
// the figures both are computed from.
import { ms, type Experiment } from './experiment-schema.js';
import type { PhaseName, Verdict } from './report-model.js';

export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function rate(ok: number, total: number): number | null {
  return total > 0 ? ok / total : null;
}

export function checksPhase(e: Experiment, phase: PhaseName): boolean {
  return phase !== 'inject' || e.spec.hypothesis.during;
}

/** Violations of the hypothesis by one phase's figures ([] = held). */
export function violations(e: Experiment, f: { successRate: number | null; p99: number | null; requests: number; retries: number }): string[] {
  const h = e.spec.hypothesis;
  const out: string[] = [];
  if (f.requests === 0) out.push('no requests completed: the steady state cannot be shown');
  if (h.successRate !== undefined && f.successRate !== null && f.successRate < h.successRate.min)
    out.push(`success rate ${(f.successRate * 100).toFixed(2)}% < ${(h.successRate.min * 100).toFixed(2)}%`);
  if (h.latencyP99 !== undefined && f.p99 !== null && f.p99 > ms(h.latencyP99.max)) out.push(`p99 ${f.p99.toFixed(0)} ms > ${ms(h.latencyP99.max)} ms`);
  if (h.retriesPerRequest !== undefined && f.requests > 0 && f.retries / f.requests > h.retriesPerRequest.max)
    out.push(`${(f.retries / f.requests).toFixed(2)} retries per request > ${h.retriesPerRequest.max}`);
  return out;
}

/** The abortWhen condition a one-second figure trips, if any. */
export function abortReason(e: Experiment, f: { successRate: number | null; p99: number | null }): string | undefined {
  const a = e.spec.abortWhen;
  if (a === undefined) return undefined;
  if (a.successRate !== undefined && f.successRate !== null && f.successRate < a.successRate.below)
    return `abortWhen: success rate ${(f.successRate * 100).toFixed(1)}% < ${(a.successRate.below * 100).toFixed(1)}%`;
  if (a.latencyP99 !== undefined && f.p99 !== null && f.p99 > ms(a.latencyP99.above)) return `abortWhen: p99 ${f.p99.toFixed(0)} ms > ${ms(a.latencyP99.above)} ms`;
  return undefined;
}

export function exitCodeOf(v: Verdict): 0 | 1 | 2 {
  return v === 'held' ? 0 : v === 'violated' ? 1 : 2;
}
