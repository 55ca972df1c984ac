// Starts the demo's child processes and guarantees they all end with it.
// Each child leads its own process group (detached), so a stop signal sent to
// the group also reaches anything the child forked (e.g. proxy workers), and a
// Ctrl-C in the terminal reaches only the demo, which then stops children in
// order instead of every process dying at once mid-request.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** The first output line that matched the ready pattern. */
  readonly readyLine: string;
  /** Last ~8 KiB of output, for error messages. */
  output(): string;
}

export interface SpawnSpec {
  readonly name: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** A line on stdout or stderr that says the child is up. */
  readonly ready: RegExp;
  readonly timeoutMs?: number;
}

const KEEP = 8192;

interface Rec extends Child {
  readyLine: string;
  out: string;
  stopping: boolean;
}

function signalGroup(p: ChildProcess, sig: NodeJS.Signals, evenIfExited = false): void {
  if (p.pid === undefined || (!evenIfExited && exited(p))) return;
  try {
    process.kill(-p.pid, sig);
  } catch {
    // Group already gone (ESRCH): nothing left to signal.
  }
}

function exited(p: ChildProcess): boolean {
  return p.exitCode !== null || p.signalCode !== null;
}

export class Supervisor {
  readonly #children = new Set<Rec>();
  #closing = false;
  /** Called when a child exits that nobody asked to stop. */
  onUnexpectedExit: (name: string, code: number | null, output: string) => void = () => undefined;

  get size(): number {
    return this.#children.size;
  }

  pids(): number[] {
    return [...this.#children].map((c) => c.proc.pid ?? 0).filter((p) => p > 0);
  }

  /** Spawns `node <args>` and resolves once `ready` matches a line of its output. */
  start(spec: SpawnSpec): Promise<Child> {
    if (this.#closing) return Promise.reject(new Error('supervisor is closing'));
    const proc = spawn(process.execPath, [...spec.args], {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const rec: Rec = { name: spec.name, proc, readyLine: '', out: '', stopping: false, output: () => rec.out };
    this.#children.add(rec);
    const timeoutMs = spec.timeoutMs ?? 30_000;
    return new Promise<Child>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        if (!ready) reject(new Error(`${spec.name} did not start within ${timeoutMs} ms:\n${rec.out}`));
      }, timeoutMs);
      const onData = (c: Buffer): void => {
        rec.out = (rec.out + c.toString()).slice(-KEEP);
        if (ready) return;
        const m = spec.ready.exec(rec.out);
        if (m) {
          ready = true;
          clearTimeout(timer);
          rec.readyLine = m[0];
          resolve(rec);
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        this.#children.delete(rec);
        if (!ready) reject(new Error(`${spec.name} exited with ${code} before it was ready:\n${rec.out}`));
        else if (!rec.stopping && !this.#closing) this.onUnexpectedExit(spec.name, code, rec.out);
      });
    });
  }

  /** SIGTERM the child's group, SIGKILL after graceMs, resolve once it has exited. */
  stop(c: Child, graceMs = 3000): Promise<void> {
    for (const r of this.#children) if (r.proc === c.proc) r.stopping = true;
    return new Promise<void>((resolve) => {
      if (exited(c.proc)) return resolve();
      const kill = setTimeout(() => signalGroup(c.proc, 'SIGKILL'), graceMs);
      c.proc.once('exit', () => {
        clearTimeout(kill);
        // The leader is gone; make sure nothing it forked lingers in its group.
        signalGroup(c.proc, 'SIGKILL', true);
        resolve();
      });
      signalGroup(c.proc, 'SIGTERM');
    });
  }

  /** Stops every child (in parallel) and waits for all of them. */
  async stopAll(graceMs = 3000): Promise<void> {
    this.#closing = true;
    const all = [...this.#children].map(async (c) => {
      await this.stop(c, graceMs);
      this.#children.delete(c);
    });
    await Promise.all(all);
  }

  /** Last resort on process exit: synchronous SIGKILL to every group still alive. */
  killAllNow(): void {
    for (const c of this.#children) signalGroup(c.proc, 'SIGKILL');
  }
}
