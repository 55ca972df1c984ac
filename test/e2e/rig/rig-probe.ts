// Can this machine run a rig? Checked for real in throw-away namespaces,
// because root inside an unprivileged container passes every cheap check.
import { randomBytes } from 'node:crypto';
import { interceptionScript, ISTIO_DEFAULT_INTERCEPTION } from '../../../proxy/interception/index.js';
import { runCommand } from './run-command.js';

async function withScratchNs<T>(fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `mltprobe${randomBytes(3).toString('hex')}`;
  try {
    return await fn(ns);
  } finally {
    await runCommand('ip', ['netns', 'del', ns], { allowFail: true });
  }
}

export async function probeRig(): Promise<{ ok: boolean; why?: string }> {
  if (process.platform !== 'linux') return { ok: false, why: `needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root (network namespaces, iptables, setpriv)' };
  for (const [tool, args] of [['ip', ['-V']], ['iptables-restore', ['--version']], ['setpriv', ['--version']], ['tc', ['-V']]] as const) {
    const r = await runCommand(tool, args, { allowFail: true }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    if (r.code !== 0) return { ok: false, why: `${tool} missing or broken: ${r.stderr.trim()} (apt-get install iproute2 iptables util-linux)` };
  }
  return withScratchNs(async (ns) => {
    const add = await runCommand('ip', ['netns', 'add', ns], { allowFail: true });
    if (add.code !== 0) return { ok: false, why: `ip netns add failed: ${add.stderr.trim()}` };
    const nat = await runCommand('ip', ['netns', 'exec', ns, 'sh', '-c', interceptionScript(ISTIO_DEFAULT_INTERCEPTION)], { allowFail: true });
    if (nat.code !== 0) return { ok: false, why: `applying the nat interception script failed: ${nat.stderr.trim()}` };
    return { ok: true };
  });
}

/** Whether the kernel has the netem qdisc (some VM kernels leave it out). */
export function probeNetem(): Promise<boolean> {
  return withScratchNs(async (ns) => {
    await runCommand('ip', ['netns', 'add', ns]);
    const r = await runCommand('tc', ['-n', ns, 'qdisc', 'replace', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { allowFail: true });
    return r.code === 0;
  }).catch(() => false);
}
