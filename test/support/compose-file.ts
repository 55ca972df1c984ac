// Reads a docker-compose file the way `docker compose config` resolves it, for
// the parts our examples use: YAML merge keys (`<<: *anchor`), `$$` escapes,
// short-syntax volumes, list-or-map environment, depends_on conditions,
// network_mode: service:X and network aliases. Tests use it to validate the
// files and to run the same services in the pod rig without Docker.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ComposeService {
  readonly name: string;
  readonly image: string | undefined;
  readonly entrypoint: readonly string[] | undefined;
  readonly command: readonly string[] | undefined;
  readonly environment: Readonly<Record<string, string>>;
  readonly user: { uid: number; gid: number } | undefined;
  readonly workingDir: string | undefined;
  /** container path → host path (bind mounts resolved against the file's folder) or `volume:NAME`. */
  readonly mounts: ReadonlyMap<string, string>;
  /** Service whose network namespace this one joins (network_mode: service:X), if any. */
  readonly joins: string | undefined;
  readonly aliases: readonly string[];
  readonly dependsOn: ReadonlyMap<string, DependsCondition>;
  readonly healthcheck: readonly string[] | undefined;
  readonly capAdd: readonly string[];
  readonly ports: readonly string[];
}

export interface ComposeFile {
  readonly path: string;
  /** The document after merge keys and `$$` escapes, as the schema sees it. */
  readonly document: Record<string, unknown>;
  readonly services: ReadonlyMap<string, ComposeService>;
}

type Obj = Record<string, unknown>;

function unescape(v: unknown): unknown {
  // Compose interpolation: `$$` is a literal `$`. Our files use no ${VAR}.
  if (typeof v === 'string') {
    if (/\$\{|\$[A-Za-z_]/.test(v.replace(/\$\$/g, ''))) throw new Error(`variable interpolation is not supported here: ${v}`);
    return v.replace(/\$\$/g, '$');
  }
  if (Array.isArray(v)) return v.map(unescape);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unescape(x)]));
  return v;
}

function strings(v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  // The string form is split into words (compose does shell-word splitting; our files quote nothing).
  if (typeof v === 'string') return v.trim().split(/\s+/);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new Error(`${what}: expected a string or a list of strings`);
}

function environment(v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (Array.isArray(v)) return Object.fromEntries(v.map((s: string) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(v as Obj).map(([k, x]) => [k, String(x)]));
}

function service(name: string, raw: Obj, dir: string): ComposeService {
  const mounts = new Map<string, string>();
  for (const m of (raw['volumes'] as string[] | undefined) ?? []) {
    const [src = '', dst = ''] = m.split(':');
    mounts.set(dst, src.startsWith('.') || src.startsWith('/') ? resolve(dir, src) : `volume:${src}`);
  }
  const dependsOn = new Map<string, DependsCondition>();
  const dep = raw['depends_on'];
  if (Array.isArray(dep)) for (const d of dep as string[]) dependsOn.set(d, 'service_started');
  else if (dep) for (const [d, c] of Object.entries(dep as Obj)) dependsOn.set(d, ((c as Obj)['condition'] as DependsCondition) ?? 'service_started');
  const mode = raw['network_mode'] as string | undefined;
  const joins = mode?.startsWith('service:') ? mode.slice('service:'.length) : undefined;
  if (joins) dependsOn.set(joins, dependsOn.get(joins) ?? 'service_started');
  const nets = (raw['networks'] ?? {}) as Obj;
  const aliases = Array.isArray(nets) ? [] : Object.values(nets).flatMap((n) => ((n as Obj | null)?.['aliases'] as string[] | undefined) ?? []);
  const user = raw['user'] as string | undefined;
  const [uid, gid] = (user ?? '').split(':').map(Number);
  const hc = (raw['healthcheck'] as Obj | undefined)?.['test'] as string[] | undefined;
  return {
    name,
    image: raw['image'] as string | undefined,
    entrypoint: strings(raw['entrypoint'], `${name}.entrypoint`),
    command: strings(raw['command'], `${name}.command`),
    environment: environment(raw['environment']),
    user: user === undefined ? undefined : { uid: uid ?? 0, gid: gid ?? uid ?? 0 },
    workingDir: raw['working_dir'] as string | undefined,
    mounts,
    joins,
    aliases,
    dependsOn,
    // ["CMD", ...] runs the rest; ["CMD-SHELL", s] runs s with sh.
    healthcheck: hc === undefined ? undefined : hc[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', hc[1] ?? ''] : hc.slice(1),
    capAdd: (raw['cap_add'] as string[] | undefined) ?? [],
    ports: ((raw['ports'] as unknown[] | undefined) ?? []).map(String),
  };
}

export function loadComposeFile(path: string): ComposeFile {
  const document = unescape(parse(readFileSync(path, 'utf8'), { merge: true })) as Obj;
  const services = new Map<string, ComposeService>();
  for (const [name, raw] of Object.entries((document['services'] ?? {}) as Obj)) services.set(name, service(name, raw as Obj, dirname(path)));
  return { path, document, services };
}

/** Services in an order that respects depends_on (and network_mode joins); throws on a cycle or an unknown name. */
export function startOrder(file: ComposeFile): ComposeService[] {
  const out: ComposeService[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string): void => {
    const s = file.services.get(name);
    if (s === undefined) throw new Error(`${from} depends on unknown service ${name}`);
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`dependency cycle through ${name}`);
    state.set(name, 'visiting');
    for (const d of s.dependsOn.keys()) visit(d, name);
    state.set(name, 'done');
    out.push(s);
  };
  for (const name of file.services.keys()) visit(name, name);
  return out;
}
