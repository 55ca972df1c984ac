// A process the rig started inside a namespace: its pid, its exit, its recent
// output, and a kill that waits for the exit.
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

// Enough to show why a process died without growing without bound.
const OUTPUT_KEEP = 64 * 1024;

export class PodProcess {
  readonly pid: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | null = null;
  #output = '';
  #listeners = new Set<() => void>();
  #log: WriteStream | null;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
    logFile?: string,
  ) {
    if (child.pid === undefined) throw new Error(`${label}: spawn failed (no pid)`);
    this.pid = child.pid;
    this.#log = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
    const onData = (c: Buffer): void => {
      this.#log?.write(c);
      this.#output += c.toString();
      if (this.#output.length > OUTPUT_KEEP) this.#output = this.#output.slice(-OUTPUT_KEEP / 2);
      for (const l of this.#listeners) l();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => onData(Buffer.from(`spawn error: ${err.message}\n`)));
      child.on('close', (code, signal) => {
        this.#exit = { code, signal };
        this.#log?.end();
        for (const l of this.#listeners) l();
        resolve(this.#exit);
      });
    });
  }

  get running(): boolean {
    return this.#exit === null;
  }

  /** Recent stdout+stderr (the last 32–64 KB). */
  output(): string {
    return this.#output;
  }

  /** Resolves with the first output line matching `re`; rejects on exit or timeout. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (const line of this.#output.split('\n')) {
          if (re.test(line)) return done(null, line);
        }
        if (this.#exit) done(new Error(`${this.label} exited (${this.#exit.code ?? this.#exit.signal}) before ${re}; output:\n${this.#output.slice(-2000)}`));
      };
      const timer = setTimeout(() => done(new Error(`${this.label}: no line matching ${re} within ${timeoutMs} ms; output:\n${this.#output.slice(-2000)}`)), timeoutMs);
      const done = (err: Error | null, line?: string): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (err) reject(err);
        else resolve(line ?? '');
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async kill(graceMs = 2000): Promise<ProcessExit> {
    if (this.#exit) return this.#exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/**
 * Whether `pid` is a live process. Orphans re-parented to PID 1 stay zombies
 * for a second or two before being reaped here, and `kill -0` succeeds on a
 * zombie, so state Z counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^State:\s+(\S)/m.exec(status);
    return m !== null && m[1] !== 'Z' && m[1] !== 'X';
  } catch {
    return false;
  }
}

/** Start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat), or null. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces; fields after it start past the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** SIGTERM every pid, SIGKILL the survivors after `graceMs`; bounded wait. */
export async function killPids(pids: readonly number[], graceMs = 2000): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (!pids.some(isAlive)) return;
  signal('SIGKILL');
  const hardDeadline = Date.now() + 2000;
  while (pids.some(isAlive) && Date.now() < hardDeadline) await new Promise((r) => setTimeout(r, 25));
}
