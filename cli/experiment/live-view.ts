// The terminal while an experiment runs: a progress bar per phase and the
// last second's figures, redrawn in place on a TTY; with --no-tty (CI), one
// plain line per second instead.
import type { LiveUpdate } from './run-experiment.js';
import { PHASES, type Sample } from './report-model.js';

const fmtPct = (v: number | null): string => (v === null ? '   –  ' : `${(v * 100).toFixed(1).padStart(5)}%`);
const fmtMs = (v: number | null): string => (v === null ? '    –' : `${v.toFixed(0).padStart(5)}`);

export function sampleLine(s: Sample | undefined): string {
  if (s === undefined) return 'waiting for the first second…';
  return `t=${String(s.t).padStart(3)}s ${s.phase.padEnd(8)} rps ${String(s.requests).padStart(4)}  success ${fmtPct(s.successRate)}  p50 ${fmtMs(s.p50)} ms  p99 ${fmtMs(s.p99)} ms  retries ${String(s.retries).padStart(3)}  ejections ${s.ejections}`;
}

export class LiveView {
  readonly #tty: boolean;
  readonly #out: NodeJS.WriteStream;
  #drawn = 0;
  #lastT = -1;

  constructor(tty: boolean, out: NodeJS.WriteStream = process.stdout) {
    this.#tty = tty;
    this.#out = out;
  }

  update(u: LiveUpdate): void {
    if (!this.#tty) {
      if (u.last !== undefined && u.last.t !== this.#lastT) {
        this.#lastT = u.last.t;
        this.#out.write(sampleLine(u.last) + '\n');
      }
      return;
    }
    const lines = PHASES.map((p) => {
      const [a, b] = u.bounds[p];
      const span = Math.max(0.001, b - a);
      const frac = p === u.phase ? Math.min(1, (u.t - a) / span) : PHASES.indexOf(p) < PHASES.indexOf(u.phase) ? 1 : 0;
      const width = 30;
      const full = Math.round(frac * width);
      return `${p.padEnd(9)} [${'█'.repeat(full)}${'·'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%${p === u.phase ? '  ◀' : ''}`;
    });
    lines.push(sampleLine(u.last));
    if (this.#drawn > 0) this.#out.write(`\x1b[${this.#drawn}A`);
    this.#out.write(lines.map((l) => `\x1b[2K${l}`).join('\n') + '\n');
    this.#drawn = lines.length;
  }

  /** A line that must stay visible (fault applied/reverted, abort). */
  note(line: string): void {
    if (this.#tty && this.#drawn > 0) {
      this.#out.write(`\x1b[${this.#drawn}A\x1b[J`);
      this.#drawn = 0;
    }
    this.#out.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  }
}
