// The README's test command (after the build): runs every vitest suite (unit,
// integration, end-to-end) and prints the totals as one plain line,
// `N passed, N failed, N skipped`, which CI reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'meshlet-results-'));
const out = join(dir, 'vitest.json');
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : process.env.FORCE_COLOR } });

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  passed = j.numPassedTests ?? 0;
  // A file that failed to load has no failed test of its own: count it as one failure.
  const brokenFiles = (j.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed = (j.numFailedTests ?? 0) + brokenFiles;
  skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
} catch (e) {
  console.error(`could not read vitest results: ${e.message}`);
  failed = Math.max(failed, 1);
}
rmSync(dir, { recursive: true, force: true });
if (r.status !== 0 && failed === 0) failed = 1; // a crash or an unhandled error still fails the run
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
