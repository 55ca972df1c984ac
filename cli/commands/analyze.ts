// `meshlet analyze PATH...`: offline validation of Istio YAML, like `istioctl
// analyze`. Runs exactly the checks the proxy and the control plane run
// (proxy/config analyzePaths) and prints every finding at once.
import { analyzePaths, formatIssue, setRegexLimits, type ConfigIssue } from '../../proxy/config/index.js';
import { flagsHelp, intFlag, parseOrUsage, type FlagSpec } from '../flags.js';

const SPEC = {
  json: { type: 'boolean', default: false, help: 'print the findings as JSON' },
  'max-regex-program-size': { type: 'string', default: '100', help: "largest RE2 program a regex may compile to (Envoy's max_program_size)" },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet analyze PATH... [--json]

Checks Istio YAML files or directories (ServiceEntry, DestinationRule,
VirtualService) with the same validation the proxy and the control plane
use, and prints every finding with file, resource, field path, reason and
severity: error (the config would be refused), warning (accepted, but the
field has no effect in Meshlet), info (a document that was skipped).
Exit code 1 when there is an error, 0 otherwise.`,
  SPEC,
);

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrUsage(argv, SPEC, help);
  if (parsed === undefined) return 2;
  if (parsed.positionals.length === 0) {
    process.stderr.write(`analyze: give at least one file or directory\n\n${help}`);
    return 2;
  }
  setRegexLimits({ maxProgramSize: intFlag('max-regex-program-size', parsed.flags['max-regex-program-size']) });
  const r = await analyzePaths(parsed.positionals);
  const all: ConfigIssue[] = [...r.errors.map((e) => ({ ...e, severity: 'error' as const })), ...r.warnings];
  if (parsed.flags.json) {
    process.stdout.write(JSON.stringify(all, null, 2) + '\n');
  } else {
    for (const i of all) process.stdout.write(`${i.severity === 'error' ? 'error: ' : ''}${formatIssue(i)}\n`);
    const n = (s: string): number => all.filter((i) => i.severity === s).length;
    process.stdout.write(`${r.errors.length === 0 ? '✔ no errors' : '✘'}: ${n('error')} error(s), ${n('warning')} warning(s), ${n('info')} note(s)\n`);
  }
  return r.errors.length > 0 ? 1 : 0;
}
