// `meshlet demo` as a user runs it (`npm start`): the built CLI as a real
// process that starts a control plane, 7 bookinfo apps and 8 sidecars on
// loopback. Proves traffic flows through the mesh (rates, success, the
// reviews split with all three versions), that the scenario's broken pod
// shows up as retries and an ejection, and that it stops cleanly — after
// --duration or on Ctrl-C — leaving no process and no temp dir behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, ROOT, until } from '../support/meshlet-process.js';

interface Run {
  readonly proc: ChildProcess;
  readonly tag: string;
  out(): string;
  exited: Promise<number | null>;
}

const running: Run[] = [];

function startDemo(args: string[]): Run {
  // Every process the demo starts inherits this variable: a leftover is found
  // by it even after it has been re-parented to init.
  const tag = `meshlet-demo-test-${randomUUID()}`;
  const proc = spawn(process.execPath, [BIN, 'demo', '--no-tty', ...args], {
    cwd: ROOT,
    env: { ...process.env, MESHLET_DEMO_TEST_TAG: tag },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const run = { proc, tag, out: () => out, exited };
  running.push(run);
  return run;
}

/** PIDs of live processes (other than zombies) whose environment carries `tag`. */
function processesTagged(tag: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(tag)) found.push(Number(name));
    } catch {
      // Gone meanwhile, or not ours to read (then not started by the demo either).
    }
  }
  return found;
}

function exitWithin(run: Run, ms: number): Promise<number | null> {
  return Promise.race([run.exited, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`demo still running after ${ms} ms:\n${run.out()}`)), ms))]);
}

afterEach(async () => {
  // A failed test must not leave a mesh running: kill the demo, then anything tagged.
  for (const r of running.splice(0)) {
    if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    for (const pid of processesTagged(r.tag)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
});

const nums = (text: string, re: RegExp): number[] => [...text.matchAll(re)].map((m) => Number(m[1]));

describe('meshlet demo', () => {
  it('runs traffic through two sidecars per hop, shows split, retries and ejection, and stops cleanly after --duration', async () => {
    // Step 4 s: reviews-v3-b is broken from 8 s to 16 s. With 2 s steps its 4-s window saw only a few
    // requests when a loaded CI machine slowed the users to ~5/s, too few for an ejection now and then.
    const run = startDemo(['--duration', '20', '--step', '4']);
    const code = await exitWithin(run, 150_000);
    const out = run.out();
    expect(code, out).toBe(0);

    // Users got pages, and the sidecars saw traffic on every route.
    expect(Math.max(...nums(out, /users (\d+\.\d) req\/s/g)), out).toBeGreaterThan(5);
    expect(Math.max(...nums(out, /routes: productpage (\d+\.\d)\/s/g)), out).toBeGreaterThan(5);
    expect(Math.max(...nums(out, /\| reviews (\d+\.\d)\/s/g)), out).toBeGreaterThan(5);
    expect(nums(out, /users \d+\.\d req\/s ok (\d+\.\d)%/g).length, out).toBeGreaterThan(3);
    // Every sidecar ACKed the control plane's config.
    expect(out).toMatch(/config 8\/8 synced/);
    // All three reviews versions served: v1/v3 by weight, v2 for end-user: jason
    // (which productpage must propagate for that route to match).
    const split = /reviews requests by version: v1 (\d+), v2 (\d+), v3 (\d+)/.exec(out);
    expect(split, out).not.toBeNull();
    const [v1, v2, v3] = [Number(split![1]), Number(split![2]), Number(split![3])];
    expect(v1, out).toBeGreaterThan(0);
    expect(v2, out).toBeGreaterThan(0);
    expect(v3, out).toBeGreaterThan(0);
    // The scenario ran: canary written, one v3 pod broke; the sidecar retried its
    // 503s on the other pod and outlier detection ejected it.
    expect(out).toMatch(/\] canary: reviews split/);
    expect(out).toMatch(/\] reviews-v3-b breaks/);
    expect(Number(/retries: reviews (\d+)/.exec(out)?.[1] ?? 0), out).toBeGreaterThan(0);
    expect(Number(/outlier ejections: reviews (\d+)/.exec(out)?.[1] ?? 0), out).toBeGreaterThanOrEqual(1);
    // Users never saw the broken pod (retries), within a small tolerance for a restart race.
    const users = /users: (\d+) page loads, (\d+) broken/.exec(out);
    expect(Number(users?.[1] ?? 0), out).toBeGreaterThan(50);
    expect(Number(users?.[2] ?? 1e9) / Number(users?.[1] ?? 1), out).toBeLessThan(0.05);

    // Nothing left behind.
    const dir = /config dir (\S+)/.exec(out)?.[1];
    expect(dir, out).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
    expect(processesTagged(run.tag)).toEqual([]);
  }, 180_000);

  it.each(['SIGINT', 'SIGHUP'] as const)('stops every child on %s (Ctrl-C, closed terminal) and exits 0', async (signal) => {
    const run = startDemo([]);
    await until(() => /\[t=\d+s\] users \d/.test(run.out()) || run.proc.exitCode !== null, 120_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}; demo output:\n${run.out()}`);
    });
    expect(run.proc.exitCode, run.out()).toBeNull();
    expect(processesTagged(run.tag).length).toBeGreaterThanOrEqual(15); // 8 sidecars + 7 apps
    run.proc.kill(signal);
    const code = await exitWithin(run, 30_000);
    expect(code, run.out()).toBe(0);
    expect(run.out()).toMatch(new RegExp(`meshlet demo stopped \\(${signal}\\)`));
    expect(processesTagged(run.tag)).toEqual([]);
  }, 180_000);
});
