// `meshlet status`: per-sidecar sync state from the control plane (like istioctl proxy-status).
import { parseArgs } from 'node:util';
import { fetchStatus, formatStatusTable } from '../../control-plane/index.js';

export const help = `meshlet status [--control-plane HOST:PORT] [--json]

Lists every sidecar connected to the control plane with the config version
sent and ACKed, its sync state (SYNCED / STALE / NOT SENT) and its last NACK.

  --control-plane HOST:PORT   default 127.0.0.1:15010 (env MESHLET_CONTROL_PLANE)
  --json                      print the raw status as JSON`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({ args: argv, options: { 'control-plane': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${help}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help + '\n');
    return 0;
  }
  const target = values['control-plane'] ?? (process.env.MESHLET_CONTROL_PLANE || '127.0.0.1:15010');
  try {
    const st = await fetchStatus(target);
    if (values.json || process.env.MESHLET_JSON === 'true') {
      process.stdout.write(JSON.stringify(st, null, 2) + '\n');
      return 0;
    }
    process.stdout.write(`control plane ${st.controlPlaneId} (generation ${st.generation})\n`);
    for (const e of st.configErrors) process.stdout.write(`config error: ${e.file ? e.file + ': ' : ''}${e.resource}: ${e.path}: ${e.reason}\n`);
    process.stdout.write(formatStatusTable(st.nodes) + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`status: cannot reach control plane at ${target}: ${(err as Error).message}\n`);
    return 1;
  }
}
