// `meshlet config NODE`: the MeshConfig the control plane sends (or would send) that node.
import { parseArgs } from 'node:util';
import { fetchNodeConfig } from '../../control-plane/index.js';

export const help = `meshlet config NODE [--control-plane HOST:PORT]

Prints, as JSON, the config the control plane sends the sidecar NODE (or
would send it, if it is not connected).

  --control-plane HOST:PORT   default 127.0.0.1:15010 (env MESHLET_CONTROL_PLANE)`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { 'control-plane': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${help}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(help + '\n');
    return 0;
  }
  const node = parsed.positionals[0] ?? process.env.MESHLET_NODE;
  if (!node) {
    process.stderr.write(`a NODE id is required\n\n${help}\n`);
    return 2;
  }
  const target = parsed.values['control-plane'] ?? (process.env.MESHLET_CONTROL_PLANE || '127.0.0.1:15010');
  try {
    const res = await fetchNodeConfig(target, node);
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
