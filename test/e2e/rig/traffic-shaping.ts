// Link impairments for failure experiments inside a rig namespace.
import { runCommand } from './run-command.js';

/** `tc qdisc replace … root netem <spec>` on `dev` in `ns`; null deletes the qdisc. */
export async function applyNetem(ns: string, dev: string, spec: string | null): Promise<void> {
  if (spec === null) {
    // Deleting an absent qdisc is not an error for us.
    await runCommand('tc', ['-n', ns, 'qdisc', 'del', 'dev', dev, 'root'], { allowFail: true });
    return;
  }
  const r = await runCommand('tc', ['-n', ns, 'qdisc', 'replace', 'dev', dev, 'root', 'netem', ...spec.trim().split(/\s+/)], { allowFail: true });
  if (r.code === 0) return;
  if (/qdisc kind is unknown/i.test(r.stderr)) {
    throw new Error('netem: this kernel has no sch_netem (CONFIG_NET_SCH_NETEM); check PodRig.netemAvailable() first, or use packetLoss()');
  }
  throw new Error(`netem "${spec}" on ${ns}/${dev}: ${r.stderr.trim()}`);
}

/**
 * Replaces the filter table of `ns` with one random-drop rule on eth0 input
 * (or none when `probability` is null). Only the filter table is loaded, so
 * the nat table holding the interception rules stays as it is.
 */
export async function applyPacketLoss(ns: string, probability: number | null): Promise<void> {
  if (probability !== null && !(probability > 0 && probability <= 1)) throw new RangeError(`packetLoss: probability ${probability} not in (0, 1]`);
  const rules = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  if (probability !== null) rules.push(`-A INPUT -i eth0 -m statistic --mode random --probability ${probability} -j DROP`);
  rules.push('COMMIT', '');
  await runCommand('ip', ['netns', 'exec', ns, 'iptables-restore'], { input: rules.join('\n') });
}
