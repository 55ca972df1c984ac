// `meshlet config NODE`: the MeshConfig the control plane sends (or would send) that node.
import { fetchNodeConfig } from '../../control-plane/index.js';
import { ADMIN_CALL_FLAGS, adminCallOptions } from '../admin-call-flags.js';
import { flagsHelp, parseOrUsage, type FlagSpec } from '../flags.js';

const SPEC = {
  'control-plane': { type: 'string', default: '127.0.0.1:15010', help: 'control plane HOST:PORT' },
  node: { type: 'string', help: 'node id (or give it as the first argument)' },
  ...ADMIN_CALL_FLAGS,
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet config NODE [--control-plane HOST:PORT]

Prints, as JSON, the config the control plane sends the sidecar NODE (or
would send it, if it is not connected).`,
  SPEC,
);

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrUsage(argv, SPEC, help);
  if (parsed === undefined) return 2;
  const node = parsed.positionals[0] ?? parsed.flags.node;
  if (!node) {
    process.stderr.write(`a NODE id is required\n\n${help}`);
    return 2;
  }
  const target = parsed.flags['control-plane'] ?? '127.0.0.1:15010';
  const callOpts = adminCallOptions(parsed.flags);
  if (typeof callOpts === 'string') {
    process.stderr.write(`config: ${callOpts}\n\n${help}`);
    return 2;
  }
  try {
    const res = await fetchNodeConfig(target, node, callOpts);
    if (res.configJson === '') {
      process.stderr.write('config: the control plane has no valid config yet\n');
      return 1;
    }
    if (!res.connected) process.stderr.write(`note: ${node} is not connected; showing what it would get\n`);
    process.stdout.write(res.configJson + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`config: cannot reach control plane at ${target}: ${(err as Error).message}\n`);
    return 1;
  }
}
