// `meshlet status`: per-sidecar sync state from the control plane (like istioctl proxy-status).
import { fetchStatus, formatStatusTable } from '../../control-plane/index.js';
import { ADMIN_CALL_FLAGS, adminCallOptions } from '../admin-call-flags.js';
import { flagsHelp, parseOrUsage, type FlagSpec } from '../flags.js';

const SPEC = {
  'control-plane': { type: 'string', default: '127.0.0.1:15010', help: 'control plane HOST:PORT' },
  json: { type: 'boolean', default: false, help: 'print the raw status as JSON' },
  ...ADMIN_CALL_FLAGS,
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet status [--control-plane HOST:PORT] [--json]

Lists every sidecar connected to the control plane with the config version
sent and ACKed, its sync state (SYNCED / STALE / NOT SENT / ERROR / REFUSED:
reason, when its pod identity did not match the Pod) and its last NACK;
with the Kubernetes source, whether its watches are current or STALE.`,
  SPEC,
);

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrUsage(argv, SPEC, help);
  if (parsed === undefined) return 2;
  const target = parsed.flags['control-plane'] ?? '127.0.0.1:15010';
  const callOpts = adminCallOptions(parsed.flags);
  if (typeof callOpts === 'string') {
    process.stderr.write(`status: ${callOpts}\n\n${help}`);
    return 2;
  }
  try {
    const st = await fetchStatus(target, callOpts);
    if (parsed.flags.json) {
      process.stdout.write(JSON.stringify(st, null, 2) + '\n');
      return 0;
    }
    process.stdout.write(`control plane ${st.controlPlaneId} (generation ${st.generation})\n`);
    for (const src of st.sources) {
      const state = src.stale ? `STALE since ${src.staleSince} (serving the last known state)${src.detail ? `: ${src.detail}` : ''}` : 'SYNCED';
      process.stdout.write(`source ${src.name}: ${state}\n`);
    }
    for (const e of st.configErrors) process.stdout.write(`config error: ${e.file ? e.file + ': ' : ''}${e.resource}: ${e.path}: ${e.reason}\n`);
    process.stdout.write(formatStatusTable(st.nodes) + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`status: cannot reach control plane at ${target}: ${(err as Error).message}\n`);
    return 1;
  }
}
