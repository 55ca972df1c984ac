// The README's test command (after the build): runs every vitest suite (unit,
// integration, end-to-end) and prints the totals as one plain line,
// `N passed, N failed, N skipped`, which CI reads.
//
// Two phases: everything outside test/e2e with the config's two workers, then
// the pod-rig scenarios (test/e2e) one file at a time. Each rig scenario runs
// several sidecars, apps and a control plane; two of them beside each other and
// beside the integration files starved a 2-core machine into time-outs and
// outlier ejections that had nothing to do with the code under test.
// Extra arguments go to both phases (e.g. `--exclude 'test/e2e/**'` makes the
// second phase find nothing, which passes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'meshlet-results-'));
const extra = process.argv.slice(2);
const phases = [
  { name: 'unit + integration', args: ['--exclude', 'test/e2e/**', ...extra] },
  { name: 'pod-rig e2e, one file at a time', args: ['test/e2e', '--no-file-parallelism', '--passWithNoTests', ...extra] },
];

let passed = 0;
let failed = 0;
let skipped = 0;
for (const [i, phase] of phases.entries()) {
  const out = join(dir, `vitest-${i}.json`);
  console.log(`== ${phase.name}`);
  const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...phase.args];
  const r = spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });
  let phaseFailed = 0;
  try {
    const j = JSON.parse(readFileSync(out, 'utf8'));
    passed += j.numPassedTests ?? 0;
    // A file that failed to load has no failed test of its own: count it as one failure.
    const brokenFiles = (j.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
    phaseFailed = (j.numFailedTests ?? 0) + brokenFiles;
    skipped += (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  } catch (e) {
    console.error(`could not read vitest results of phase "${phase.name}": ${e.message}`);
    phaseFailed = Math.max(phaseFailed, 1);
  }
  if (r.status !== 0 && phaseFailed === 0) phaseFailed = 1; // a crash or an unhandled error still fails the run
  failed += phaseFailed;
}
rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
