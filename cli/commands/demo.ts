// `meshlet demo` (= `npm start`): the whole mesh on loopback, live.
import { flagsHelp, intFlag, parseFlags, type FlagSpec } from '../flags.js';

const SPEC = {
  duration: { type: 'string', help: 'stop after this many seconds of traffic (default: run until Ctrl-C)' },
  step: { type: 'string', default: '10', help: 'seconds between scenario steps (canary split, v3 pod breaks, pod fixed)' },
  rps: { type: 'string', default: '20', help: 'page loads per second sent to productpage' },
  'no-tty': { type: 'boolean', default: false, help: 'plain periodic lines instead of the live screen (automatic when stdout is not a terminal)' },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet demo [flags]

Starts a control plane, the Bookinfo services (productpage, details, reviews
v1/v2/v3, ratings) and one Meshlet sidecar per instance, all on 127.0.0.1,
then sends traffic and shows requests/s, success rate and latency per route,
the reviews split, retries, ejections and each sidecar's config version.
While it runs it shifts the reviews split and breaks one reviews-v3 pod.
Ctrl-C stops everything it started.`,
  SPEC,
);

export async function run(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, SPEC).flags;
  } catch (err) {
    process.stderr.write(`meshlet demo: ${(err as Error).message}\n\n${help}`);
    return 2;
  }
  let durationS: number | undefined;
  let stepS: number;
  let rps: number;
  try {
    durationS = flags.duration === undefined ? undefined : intFlag('duration', flags.duration);
    stepS = intFlag('step', flags.step);
    rps = intFlag('rps', flags.rps);
    if ((durationS !== undefined && durationS < 1) || stepS < 1 || rps < 1 || rps > 1000) throw new Error('--duration, --step must be ≥ 1 and --rps in 1..1000');
  } catch (err) {
    process.stderr.write(`meshlet demo: ${(err as Error).message}\n`);
    return 2;
  }
  const { runDemo } = await import('../demo/run-demo.js');
  return runDemo({ durationS, stepS, rps, tty: process.stdout.isTTY === true && !flags['no-tty'], out: process.stdout });
}
