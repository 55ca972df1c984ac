// Ownership records and teardown for rigs. Every rig writes a small record
// naming its owner process before it creates anything; a rig whose owner is
// gone (SIGKILL, crashed test worker) is stale and anyone may remove it, while
// a rig whose owner still runs is left alone, so parallel runs never collide.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAlive, killPids, processStartTime } from './pod-process.js';
import { runCommand } from './run-command.js';

export const STATE_DIR = '/run/meshlet-rig';
export const NETNS_ETC = '/etc/netns';

export interface RigRecord {
  readonly prefix: string;
  /** 0 = detached (brought up by `cli.ts up`): kept until removed explicitly. */
  readonly ownerPid: number;
  readonly ownerStart: string | null;
  readonly createdAt: string;
}

export function writeRecord(prefix: string, detached: boolean): void {
  mkdirSync(STATE_DIR, { recursive: true });
  const rec: RigRecord = {
    prefix,
    ownerPid: detached ? 0 : process.pid,
    ownerStart: detached ? null : processStartTime(process.pid),
    createdAt: new Date().toISOString(),
  };
  writeFileSync(`${STATE_DIR}/${prefix}.json`, JSON.stringify(rec));
}

export function readRecord(prefix: string): RigRecord | null {
  try {
    return JSON.parse(readFileSync(`${STATE_DIR}/${prefix}.json`, 'utf8')) as RigRecord;
  } catch {
    return null;
  }
}

/** 'live' = owner runs; 'detached' = kept on purpose; 'stale' = removable. */
export function rigState(prefix: string): 'live' | 'detached' | 'stale' {
  const rec = readRecord(prefix);
  if (rec === null) return 'stale';
  if (rec.ownerPid === 0) return 'detached';
  // The start time guards against the owner's pid having been reused.
  return isAlive(rec.ownerPid) && processStartTime(rec.ownerPid) === rec.ownerStart ? 'live' : 'stale';
}

export async function listNamespaces(): Promise<string[]> {
  const r = await runCommand('ip', ['netns', 'list'], { allowFail: true });
  // Lines look like "name (id: 3)" or just "name".
  return r.stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Rig prefixes (`<family><4 hex>-`) that have a namespace, hosts dir or record. */
export async function findRigs(family: string): Promise<string[]> {
  const re = new RegExp(`^(${family.replace(/[^a-z0-9]/g, '')}[0-9a-f]{4}-)`);
  const names = [...(await listNamespaces()), ...safeReaddir(NETNS_ETC), ...safeReaddir(STATE_DIR)];
  const found = new Set<string>();
  for (const n of names) {
    const m = re.exec(n);
    if (m?.[1]) found.add(m[1]);
  }
  return [...found].sort();
}

/** Pids whose network namespace is `ns` (per `ip netns pids`), zombies excluded. */
export async function namespacePids(ns: string): Promise<number[]> {
  const r = await runCommand('ip', ['netns', 'pids', ns], { allowFail: true });
  return r.stdout.split('\n').map(Number).filter((p) => Number.isInteger(p) && p > 0 && isAlive(p));
}

/**
 * Removes everything a rig made: kills processes in its namespaces, deletes
 * the namespaces (veths and bridge go with them), its /etc/netns dirs and its
 * record. Idempotent; safe on a half-built rig.
 */
export async function removeRig(prefix: string): Promise<void> {
  const namespaces = (await listNamespaces()).filter((n) => n.startsWith(prefix));
  const pids = (await Promise.all(namespaces.map(namespacePids))).flat();
  if (pids.length > 0) await killPids(pids);
  // Pod namespaces first: deleting them tears down their veth peers cleanly.
  const node = `${prefix}node`;
  await Promise.all(namespaces.filter((n) => n !== node).map((n) => runCommand('ip', ['netns', 'del', n], { allowFail: true })));
  if (namespaces.includes(node)) await runCommand('ip', ['netns', 'del', node], { allowFail: true });
  for (const d of safeReaddir(NETNS_ETC)) {
    if (d.startsWith(prefix)) rmSync(`${NETNS_ETC}/${d}`, { recursive: true, force: true });
  }
  // Leave /etc/netns as we found it when nothing else uses it.
  if (safeReaddir(NETNS_ETC).length === 0) rmSync(NETNS_ETC, { recursive: true, force: true });
  rmSync(`${STATE_DIR}/${prefix}.json`, { force: true });
}

/**
 * Removes leftovers of crashed rigs of `family` (default "mlt"): every rig
 * whose owner process is gone. With `includeDetached`, also rigs kept by
 * `cli.ts up`. Never touches a rig whose owner still runs. Returns the
 * prefixes removed.
 */
export async function cleanupStale(family = 'mlt', opts: { includeDetached?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const prefix of await findRigs(family)) {
    const state = rigState(prefix);
    if (state === 'stale' || (state === 'detached' && opts.includeDetached)) {
      await removeRig(prefix);
      removed.push(prefix);
    }
  }
  return removed;
}
