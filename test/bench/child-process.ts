// Starting and stopping the processes under test, pinned to a CPU, and
// reading their CPU time and peak RSS from /proc. Every child is registered so
// the harness can kill them all on exit, error or SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** A free TCP port on 127.0.0.1 (bind to 0, read, release); the same helper the tests use. */
export { freePort } from '../support/tcp-capture.js';

export interface Child {
  readonly pid: number;
  /** Port the child announced with `LISTENING <port>` (or the one passed in). */
  readonly port: number;
  readonly proc: ChildProcess;
  stop(): Promise<void>;
  /** Last stderr/stdout lines, for error messages. */
  output(): string;
}

const live = new Set<ChildProcess>();

function hasTaskset(): boolean {
  try { execFileSync('taskset', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Pinning is used when taskset exists and the machine has ≥2 CPUs. */
export const PINNING: boolean = hasTaskset() && cpus().length >= 2;

/** Pins the current process (load generator + upstream) to CPU 0. */
export function pinSelf(): boolean {
  if (!PINNING) return false;
  try { execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' }); return true; } catch { return false; }
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** True when running from TypeScript sources under tsx rather than from dist/. */
export const RUNNING_TS: boolean = import.meta.url.endsWith('.ts');

/** Command line that runs a sibling bench script (`peers/bare-undici`) in node, from .ts or compiled .js. */
export function nodeScript(rel: string): string[] {
  if (RUNNING_TS) return [process.execPath, '--import', 'tsx', path.join(here, `${rel}.ts`)];
  return [process.execPath, path.join(here, `${rel}.js`)];
}

export interface SpawnOptions {
  readonly cmd: readonly string[];
  readonly cpu?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** When set, readiness is this TCP port accepting connections; otherwise the `LISTENING <port>` line. */
  readonly port?: number;
  readonly readyTimeoutMs?: number;
}

export async function spawnChild(o: SpawnOptions): Promise<Child> {
  const argv = o.cpu !== undefined && PINNING ? ['taskset', '-c', String(o.cpu), ...o.cmd] : [...o.cmd];
  const [file, ...rest] = argv;
  if (file === undefined) throw new Error('empty command');
  const proc = spawn(file, rest, { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  const keep = (b: Buffer): void => { out = (out + b.toString()).slice(-4000); };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => { live.delete(proc); resolve(); }));
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  try {
    const port = await waitReady(proc, o, () => out);
    // taskset execs the target, so the pid is the node process itself.
    return { pid: proc.pid ?? -1, port, proc, stop, output: () => out };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitReady(proc: ChildProcess, o: SpawnOptions, out: () => string): Promise<number> {
  const deadline = Date.now() + (o.readyTimeoutMs ?? 15_000);
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`child exited early (${proc.exitCode ?? proc.signalCode}): ${out()}`);
    if (o.port !== undefined) {
      if (await canConnect(o.port)) return o.port;
    } else {
      const m = /LISTENING (\d+)/.exec(out());
      if (m?.[1]) return Number(m[1]);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`child not ready after ${o.readyTimeoutMs ?? 15_000} ms: ${out()}`);
}

async function canConnect(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Kills every child still running; safe to call more than once. */
export function killAllChildren(): void {
  for (const p of live) { try { p.kill('SIGKILL'); } catch { /* already gone */ } }
  live.clear();
}

/** utime+stime of a process in microseconds (0 if /proc is unavailable). */
export function cpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1e6) / CLK_TCK;
  } catch { return 0; }
}

/** Peak RSS (VmHWM) in MiB, NaN if unavailable. */
export function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : NaN;
  } catch { return NaN; }
}

const CLK_TCK = ((): number => {
  try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { return 100; }
})();

