// Every file in examples/experiments/ run against the demo mesh that
// `npm start` starts, the way its printed hint says (--control-plane, --via,
// --metrics from that line), with the phases shortened so the test stays
// bounded. Each must run to a verdict (exit 0 or 1, never 2), put its fault
// in and take it out again, and measure traffic in every phase; the abort
// without retries must show failures while it is in. The resilience pairs
// (retry budget off/on, circuit breaker off/on, outlier ejection off/on) must
// reach their expected verdicts, the policy side doing better than the other.
// Files run in name order: each pair's "off" side first, and the outlier pair
// last, after the demo's own scenario (a v3 pod broken, then fixed) is over.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../cli/experiment/report-model.js';
import { BIN, ROOT, until } from '../support/meshlet-process.js';

const EXAMPLES = join(ROOT, 'examples/experiments');
const work = mkdtempSync(join(tmpdir(), 'meshlet-exp-demo-'));
let demo: ChildProcess;
let out = '';
let flags: string[] = [];

beforeAll(async () => {
  demo = spawn(process.execPath, [BIN, 'demo', '--no-tty', '--duration', '600'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  demo.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  demo.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const line = await until(() => /experiment compare .*?(--control-plane .*?--metrics \S+)/.exec(out)?.[1], 90_000, 200);
  flags = line.split(/\s+/);
  // Let the demo's start-up burst (8 sidecars connecting, the first scenario step) pass before the first experiment talks to its control plane.
  await new Promise((r) => setTimeout(r, 10_000));
}, 120_000);

afterAll(async () => {
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
  rmSync(work, { recursive: true, force: true });
}, 30_000);

function cli(args: string[]): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (c: Buffer) => (text += c.toString()));
    p.stderr.on('data', (c: Buffer) => (text += c.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 100_000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, text });
    });
  });
}

/** What each resilience example must show (the rest: a verdict, fault in and out). */
const EXPECTED: Record<string, 0 | 1> = {
  'ratings-abort-no-retries.yaml': 1,
  'retry-storm-budget-off.yaml': 1,
  'retry-storm-budget-on.yaml': 0,
  'cascade-breaker-off.yaml': 1,
  'cascade-breaker-on.yaml': 0,
  'reviews-bad-pod-ejection-off.yaml': 1,
  'reviews-bad-pod-ejection-on.yaml': 0,
};
const reports = new Map<string, Report>();
const inject = (f: string) => reports.get(f)!.phases[1]!;
const retriesPerRequest = (f: string): number => inject(f).retries / Math.max(1, inject(f).requests);

describe('examples/experiments against the demo mesh (npm start)', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();

  it.each(files)('%s runs to a verdict with its fault applied and reverted', async (f) => {
    // Same experiment, bounded phases.
    const short = readFileSync(join(EXAMPLES, f), 'utf8').replace(/phases: \{[^}]*\}/, 'phases: { baseline: 3s, inject: 6s, recover: 3s }');
    const file = join(work, f);
    writeFileSync(file, short);
    const dir = join(work, f.replace('.yaml', ''));
    const r = await cli(['experiment', 'run', file, ...flags, '--no-tty', '--report', dir]);
    expect([0, 1], r.text).toContain(r.code);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    const kinds = report.events.map((e) => e.kind);
    expect(kinds).toContain('fault-applied');
    expect(kinds.some((k) => k === 'fault-reverted' || k === 'overlay-removed')).toBe(true);
    expect(report.phases.map((p) => p.name)).toEqual(['baseline', 'inject', 'recover']);
    for (const p of report.phases) expect(p.requests, `${f} ${p.name}`).toBeGreaterThan(0);
    reports.set(f, report);
    const fig = (p: Report['phases'][number]): string =>
      `${p.name} ${p.requests} req ${((p.successRate ?? 0) * 100).toFixed(1)}% p99 ${p.p99?.toFixed(0) ?? '-'} ms retries ${p.retries} ejections ${p.ejections}`;
    console.log(`${f}: exit ${r.code} | ${report.phases.map(fig).join(' | ')}`);
    const expected = EXPECTED[f];
    if (expected !== undefined) expect(r.code, `${f}: ${report.phases.map((p) => `${p.name} ${p.successRate} ${p.violations.join(';')}`).join(' | ')}`).toBe(expected);
    if (f === 'ratings-abort-no-retries.yaml') expect(inject(f).successRate!).toBeLessThan(0.95);
    if (f === 'retry-storm-budget-off.yaml') expect(retriesPerRequest(f)).toBeGreaterThan(2);
    if (f === 'retry-storm-budget-on.yaml') expect(retriesPerRequest(f)).toBeLessThan(retriesPerRequest('retry-storm-budget-off.yaml') / 2);
    if (f === 'cascade-breaker-off.yaml') expect(inject(f).successRate!).toBeLessThan(0.9);
    if (f === 'cascade-breaker-on.yaml') expect(inject(f).successRate!).toBeGreaterThan(inject('cascade-breaker-off.yaml').successRate!);
    if (f === 'reviews-bad-pod-ejection-off.yaml') expect(inject(f).ejections).toBe(0);
    if (f === 'reviews-bad-pod-ejection-on.yaml') {
      expect(inject(f).ejections).toBeGreaterThanOrEqual(1);
      expect(inject(f).successRate!).toBeGreaterThan(inject('reviews-bad-pod-ejection-off.yaml').successRate!);
    }
  }, 110_000);
});
