// Network faults for experiments, with iptables in the target's network
// namespace (a pod-rig pod, a container by pid, or this host): kill the
// endpoint (inbound TCP answered with RST, open connections cut), drop a
// share of inbound packets, or partition it from peers. The rules live in two
// chains of our own in the filter table (nothing else is touched), and every
// rule carries an iptables `time` match that stops it matching at the expiry:
// if the runner is killed, the fault ends by itself like an overlay's TTL
// (the inert chains are replaced by the next run). netem is not needed.
import { execFile } from 'node:child_process';
import type { Experiment } from './experiment-schema.js';
import type { FaultChange, FaultTarget } from './fault-target.js';

export type NetworkFault = NonNullable<Experiment['spec']['fault']['network']>;

export const FAULT_CHAIN_IN = 'MESHLET_FAULT_IN';
export const FAULT_CHAIN_OUT = 'MESHLET_FAULT_OUT';
/** Sidecar admin, health and metrics ports: never faulted by default, so the experiment can still observe. */
export const OBSERVATION_PORTS: readonly number[] = [15000, 15020, 15021, 15090];
const JUMPS: ReadonlyArray<readonly [string, string]> = [
  ['INPUT', FAULT_CHAIN_IN],
  ['OUTPUT', FAULT_CHAIN_OUT],
];

/** `--datestop` takes UTC without a zone suffix, to the second. */
function until(expiresAt: number): string[] {
  return ['-m', 'time', '--datestop', new Date(Math.ceil(expiresAt / 1000) * 1000).toISOString().slice(0, 19)];
}

/**
 * Which inbound packets a kill or drop hits: connections others opened to
 * this namespace (conntrack ORIGINAL direction, so its own outbound calls
 * and their replies are spared), on the given ports (original destination
 * port, which survives an interception REDIRECT), or on every port but the
 * observation ports.
 */
function inboundSelectors(f: NetworkFault): string[][] {
  const base = ['-p', 'tcp', '-m', 'conntrack', '--ctdir', 'ORIGINAL'];
  if (f.ports !== undefined && f.ports.length > 0) return f.ports.map((p) => [...base, '--ctorigdstport', String(p)]);
  return [[...base, '-m', 'multiport', '!', '--dports', OBSERVATION_PORTS.join(',')]];
}

/** The rules (iptables argument lists, filter table) that put `f` in place until `expiresAt`. */
export function networkFaultRules(f: NetworkFault, expiresAt: number): string[][] {
  const t = until(expiresAt);
  const rules: string[][] = [];
  if (f.kill === true) for (const sel of inboundSelectors(f)) rules.push(['-A', FAULT_CHAIN_IN, ...sel, ...t, '-j', 'REJECT', '--reject-with', 'tcp-reset']);
  if (f.drop !== undefined) {
    const p = (f.drop.percentage / 100).toFixed(6);
    for (const sel of inboundSelectors(f)) rules.push(['-A', FAULT_CHAIN_IN, ...sel, '-m', 'statistic', '--mode', 'random', '--probability', p, ...t, '-j', 'DROP']);
  }
  for (const peer of f.partition?.peers ?? []) {
    rules.push(['-A', FAULT_CHAIN_IN, '-s', peer, ...t, '-j', 'DROP']);
    rules.push(['-A', FAULT_CHAIN_OUT, '-d', peer, ...t, '-j', 'DROP']);
  }
  return rules;
}

/** The words for the report and the log. */
export function describeNetworkFault(f: NetworkFault): string {
  const where = f.netns !== undefined ? `network namespace ${f.netns}` : f.pid !== undefined ? `the network namespace of pid ${f.pid}` : 'this host';
  const ports = f.ports?.length ? `TCP port${f.ports.length > 1 ? 's' : ''} ${f.ports.join(', ')}` : `every inbound TCP port but ${OBSERVATION_PORTS.join(', ')}`;
  const parts: string[] = [];
  if (f.kill === true) parts.push(`kill the endpoint (connections to ${ports} reset)`);
  if (f.drop !== undefined) parts.push(`drop ${f.drop.percentage}% of inbound packets on ${ports}`);
  if (f.partition !== undefined) parts.push(`partition from ${f.partition.peers.join(', ')} (all packets both ways)`);
  return `${parts.join('; ')} in ${where}`;
}

export type Tool = 'iptables' | 'iptables-restore';
export type Runner = (tool: Tool, argv: readonly string[], input?: string) => Promise<{ code: number; stderr: string }>;

/** Runs iptables in the fault's namespace: `ip netns exec`, `nsenter -t PID -n`, or here. */
export function iptablesRunner(f: NetworkFault): Runner {
  const prefix = f.netns !== undefined ? ['ip', 'netns', 'exec', f.netns] : f.pid !== undefined ? ['nsenter', '-t', String(f.pid), '-n'] : [];
  return (tool, argv, input) =>
    new Promise((resolve) => {
      const [cmd, ...args] = [...prefix, tool, '-w', '5', ...argv];
      const child = execFile(cmd!, args, { timeout: 15_000 }, (err, _out, stderr) => {
        const code = err === null ? 0 : typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 127;
        resolve({ code, stderr: String(stderr) || (err?.message ?? '') });
      });
      // iptables (not -restore) may exit before reading stdin: an EPIPE there is not an error of ours.
      child.stdin?.on('error', () => {});
      child.stdin?.end(input ?? '');
    });
}

/** Removes our jumps (every copy) and chains; harmless when nothing is there. */
async function clear(run: Runner): Promise<void> {
  for (const [builtin, chain] of JUMPS) {
    for (let i = 0; i < 16 && (await run('iptables', ['-C', builtin, '-j', chain])).code === 0; i++) await run('iptables', ['-D', builtin, '-j', chain]);
  }
  for (const [, chain] of JUMPS) {
    await run('iptables', ['-F', chain]);
    await run('iptables', ['-X', chain]);
  }
}

/** One iptables-restore batch: our two chains (declaring them empties them) and their rules; nothing else in the table is touched. */
export function restoreInput(rules: readonly (readonly string[])[]): string {
  return ['*filter', ...JUMPS.map(([, c]) => `:${c} - [0:0]`), ...rules.map((r) => r.join(' ')), 'COMMIT', ''].join('\n');
}

export function networkFaultTarget(f: NetworkFault, run: Runner = iptablesRunner(f)): FaultTarget {
  const describe = `iptables: ${describeNetworkFault(f)}`;
  const must = async (tool: Tool, argv: readonly string[], input?: string): Promise<void> => {
    const r = await run(tool, argv, input);
    if (r.code !== 0) throw new Error(`${tool} ${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`} (network faults need root or CAP_NET_ADMIN in the target namespace)`);
  };
  const state = async (what: string): Promise<FaultChange> => ({ version: what, at: Date.now() });
  return {
    describe,
    async apply(ttlMs, withFault) {
      // A policy-only step (before inject, during recover) has no network part.
      if (!withFault) return state('network: no fault');
      // The expiry counts from when the rules go in, as the inject phase does.
      const rules = networkFaultRules(f, Date.now() + ttlMs);
      try {
        await must('iptables-restore', ['--noflush'], restoreInput(rules));
        for (const [builtin, chain] of JUMPS) {
          if ((await run('iptables', ['-C', builtin, '-j', chain])).code !== 0) await must('iptables', ['-I', builtin, '1', '-j', chain]);
        }
      } catch (err) {
        await clear(run);
        throw err;
      }
      return state(`network: ${rules.length} iptables rule(s) in, inert after ${ttlMs} ms`);
    },
    async revert() {
      await clear(run);
      const left = await run('iptables', ['-S', FAULT_CHAIN_IN]);
      if (left.code === 0) throw new Error(`network fault: chain ${FAULT_CHAIN_IN} still present after removal`);
      return state('network: rules removed');
    },
  };
}

/** Both targets as one: the HTTP overlay (fault and/or policy) and the network fault; revert tries both. */
export function combinedTarget(http: FaultTarget, net: FaultTarget): FaultTarget {
  return {
    describe: `${http.describe} + ${net.describe}`,
    async apply(ttlMs, withFault) {
      const a = await http.apply(ttlMs, withFault);
      const b = await net.apply(ttlMs, withFault);
      return { version: `${a.version}; ${b.version}`, at: b.at };
    },
    async revert() {
      const [a, b] = await Promise.allSettled([http.revert(), net.revert()]);
      if (a.status === 'rejected') throw a.reason;
      if (b.status === 'rejected') throw b.reason;
      return { version: `${a.value.version}; ${b.value.version}`, at: b.value.at };
    },
  };
}
