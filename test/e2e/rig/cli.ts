// Manual control of pod rigs:
//   npx tsx test/e2e/rig/cli.ts up [--count N | --pods name:svc,...] [--hold]
//   npx tsx test/e2e/rig/cli.ts down [PREFIX]
//   npx tsx test/e2e/rig/cli.ts status
// `up` leaves a detached rig behind (tests' cleanupStale keeps it) unless
// --hold, which owns the rig until SIGINT/SIGTERM and then tears it down.
// `down` without a prefix removes detached and crashed rigs, never live ones.
import { PodRig, type PodSpec } from './pod-rig.js';
import { findRigs, listNamespaces, namespacePids, removeRig, rigState } from './rig-cleanup.js';

const DEFAULT_SERVICES = ['productpage', 'reviews', 'ratings', 'details'];

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function podsFrom(args: string[]): PodSpec[] {
  const list = flag(args, '--pods');
  if (list) {
    return list.split(',').map((item) => {
      const [name = '', service = name] = item.split(':');
      return { name, service };
    });
  }
  const count = Number(flag(args, '--count') ?? DEFAULT_SERVICES.length);
  return Array.from({ length: count }, (_, i) => {
    const service = DEFAULT_SERVICES[i] ?? `svc${i + 1}`;
    return { name: `${service}-0`, service };
  });
}

async function up(args: string[]): Promise<void> {
  const avail = await PodRig.available();
  if (!avail.ok) throw new Error(`pod rig unavailable: ${avail.why ?? ''}`);
  const hold = args.includes('--hold');
  const rig = new PodRig({ detached: !hold });
  const t0 = performance.now();
  await rig.up(podsFrom(args));
  const ms = Math.round(performance.now() - t0);
  const pods = rig.pods().map((name) => {
    const service = podsFrom(args).find((p) => p.name === name)?.service ?? '';
    return { name, service, ns: rig.nsOf(name), ip: rig.podIp(name), vip: rig.vipOf(service) };
  });
  process.stdout.write(`${JSON.stringify({ ready: true, prefix: rig.prefix, node: rig.nodeNs, pods, upMs: ms })}\n`);
  if (!hold) return;
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await rig.down();
}

async function status(): Promise<void> {
  const namespaces = await listNamespaces();
  for (const prefix of await findRigs('mlt')) {
    process.stdout.write(`${prefix} ${rigState(prefix)}\n`);
    for (const ns of namespaces.filter((n) => n.startsWith(prefix))) {
      process.stdout.write(`  ${ns} pids=${(await namespacePids(ns)).join(',') || '-'}\n`);
    }
  }
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  if (command === 'up') await up(args);
  else if (command === 'down') {
    const t0 = performance.now();
    const prefix = args[0];
    const removed = prefix ? (await removeRig(prefix), [prefix]) : await PodRig.cleanupStale('mlt', { includeDetached: true });
    process.stdout.write(`${JSON.stringify({ removed, downMs: Math.round(performance.now() - t0) })}\n`);
  } else if (command === 'status') await status();
  else {
    process.stderr.write('usage: cli.ts up [--count N | --pods name:svc,...] [--hold] | down [PREFIX] | status\n');
    process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`rig: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
