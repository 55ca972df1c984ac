// What a run produces (report.json): every per-second sample, the fault's
// config-version events, per-phase figures and the verdict. The HTML report
// and `compare` are rendered from this alone.
import type { Experiment } from './experiment-schema.js';

export type PhaseName = 'baseline' | 'inject' | 'recover';
export const PHASES: readonly PhaseName[] = ['baseline', 'inject', 'recover'];

export interface Sample {
  /** Seconds since the start of the run (bucket start). */
  readonly t: number;
  readonly phase: PhaseName;
  readonly requests: number;
  readonly ok: number;
  readonly failed: number;
  /** null when nothing completed in that second. */
  readonly successRate: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly retries: number;
  readonly ejections: number;
}

export interface PhaseResult {
  readonly name: PhaseName;
  /** Seconds since the start of the run. */
  readonly start: number;
  readonly end: number;
  /** False when the run stopped before or during this phase. */
  readonly completed: boolean;
  readonly requests: number;
  readonly ok: number;
  readonly successRate: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly retries: number;
  readonly ejections: number;
  /** How the phase's requests ended (built-in load): "200", "503 FI", "ECONNRESET", … → count. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Whether the hypothesis is checked in this phase (inject only when `during`). */
  readonly checked: boolean;
  readonly held: boolean | null;
  readonly violations: readonly string[];
  /** Latencies (ms) for the histogram, at most a few thousand (evenly thinned). */
  readonly latencies: readonly number[];
}

export interface ConfigEvent {
  readonly t: number;
  readonly at: string;
  readonly kind: 'before' | 'policy-applied' | 'fault-applied' | 'fault-reverted' | 'overlay-removed' | 'revert-failed';
  readonly version: string;
  readonly detail?: string;
}

export type Verdict = 'held' | 'violated' | 'could-not-run';

export interface Report {
  readonly experiment: Experiment;
  readonly file: string;
  readonly startedAt: string;
  readonly target: string;
  readonly placement: 'client' | 'server';
  readonly ttlMs: number;
  readonly samples: readonly Sample[];
  readonly phases: readonly PhaseResult[];
  readonly events: readonly ConfigEvent[];
  readonly verdict: Verdict;
  readonly exitCode: 0 | 1 | 2;
  /** Why the run stopped early (abortWhen, Ctrl-C, an error), if it did. */
  readonly stoppedEarly?: { readonly t: number; readonly reason: string };
  readonly error?: string;
}
