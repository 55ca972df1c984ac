// The demo mesh on loopback: which instances exist, how their apps and
// sidecars are started, and the ServiceEntries that point every service at its
// instances' sidecar INBOUND ports, so each call crosses two sidecars like in a
// cluster (app → its sidecar outbound → peer sidecar inbound → peer app).
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Child, Supervisor } from './supervisor.js';

export type Role = 'productpage' | 'details' | 'reviews' | 'ratings';

export interface SidecarPorts {
  readonly outbound: number;
  readonly inbound: number;
  readonly admin: number;
  readonly metrics: number;
}

export interface Instance {
  /** Pod-like name, unique: also the sidecar's node id. */
  readonly name: string;
  readonly role: Role | 'loadgen';
  readonly version: string;
  /** 0 for the load generator, which has a sidecar but no app. */
  readonly appPort: number;
  sidecar?: SidecarPorts;
  /** Its bootstrap token (the control plane maps it to node id = name). */
  tokenFile?: string;
  sidecarProc?: Child;
  appProc?: Child;
}

/** The repository root (holds bin/, dist/, examples/), found from this file in src or dist. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin/meshlet.js'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('cannot find the meshlet repository root (bin/meshlet.js)');
}

/** The kernel's ephemeral range (what port 0 and outgoing connections draw from). */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo !== undefined && hi !== undefined && lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // Not Linux: assume the IANA range.
  }
  return [49152, 65535];
}

function tryListen(port: number): Promise<net.Server | undefined> {
  return new Promise((ok) => {
    const s = net.createServer();
    s.once('error', () => ok(undefined));
    s.listen(port, '127.0.0.1', () => ok(s));
  });
}

/**
 * `n` distinct free loopback ports for the apps, which must be known before
 * they start. Taken from BELOW the ephemeral range: a port released there can
 * be handed out again at once to a sidecar's port-0 listener or to an outgoing
 * connection, and the app would then fail with EADDRINUSE.
 */
export async function freePorts(n: number): Promise<number[]> {
  const [ephLo] = ephemeralRange();
  const lo = 10_000;
  const hi = ephLo - 1;
  const held: net.Server[] = [];
  for (let tries = 0; held.length < n && tries < 50 * n && hi - lo > 1000; tries++) {
    const s = await tryListen(lo + Math.floor(Math.random() * (hi - lo)));
    if (s) held.push(s);
  }
  // No room below the ephemeral range (unusual sysctl): let the kernel pick.
  while (held.length < n) {
    const s = await tryListen(0);
    if (s) held.push(s);
  }
  const ports = held.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Bookinfo's shape, with two reviews-v3 pods so one can break while the other serves. */
export async function planInstances(): Promise<Instance[]> {
  const shape: [string, Role, string][] = [
    ['productpage-v1', 'productpage', 'v1'],
    ['details-v1', 'details', 'v1'],
    ['reviews-v1', 'reviews', 'v1'],
    ['reviews-v2', 'reviews', 'v2'],
    ['reviews-v3-a', 'reviews', 'v3'],
    ['reviews-v3-b', 'reviews', 'v3'],
    ['ratings-v1', 'ratings', 'v1'],
  ];
  const ports = await freePorts(shape.length);
  const apps: Instance[] = shape.map(([name, role, version], i) => ({ name, role, version, appPort: ports[i] ?? 0 }));
  return [{ name: 'loadgen', role: 'loadgen', version: 'v1', appPort: 0 }, ...apps];
}

const LISTENING = /meshlet proxy listening[^\n]*\n/;

export async function startSidecar(sup: Supervisor, root: string, controlPlane: string, caCertFile: string, inst: Instance): Promise<void> {
  const app = inst.role;
  const child = await sup.start({
    name: `${inst.name} sidecar`,
    args: [
      join(root, 'bin/meshlet.js'), 'proxy',
      '--control-plane', controlPlane,
      '--ca-cert', caCertFile,
      '--token-file', inst.tokenFile ?? '',
      '--service-account', `bookinfo-${inst.role}`,
      '--workload', inst.role === 'loadgen' ? 'loadgen' : `${app}-${inst.version}`,
      // `pod` tells pods of one version apart, so an experiment can fault one pod (target.labels).
      '--labels', `app=${app},version=${inst.version},pod=${inst.name}`,
      '--app-port', String(inst.appPort),
      '--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--metrics-port', '0',
      '--listen-address', '127.0.0.1',
      '--access-log', 'off',
    ],
    env: { MESHLET_LOG_LEVEL: 'warn' },
    ready: LISTENING,
    timeoutMs: 60_000,
  });
  const port = (name: string): number => Number(new RegExp(`${name}=[^ ]*?:?(\\d+)(?: |$)`).exec(child.readyLine.trim())?.[1] ?? 0);
  inst.sidecar = { outbound: port('outbound'), inbound: port('inbound'), admin: port('admin'), metrics: port('metrics') };
  inst.sidecarProc = child;
}

/** Starts (or restarts, on the same port) an instance's app; `failRate` makes it answer 503s. */
export async function startApp(sup: Supervisor, root: string, inst: Instance, failRate = 0): Promise<void> {
  if (inst.role === 'loadgen') return;
  if (inst.appProc) await sup.stop(inst.appProc);
  inst.appProc = await sup.start({
    name: inst.name,
    args: [join(root, 'dist/examples/bookinfo/service.js'), inst.role],
    env: {
      PORT: String(inst.appPort),
      HOST: '127.0.0.1',
      VERSION: inst.version,
      POD_NAME: inst.name,
      HTTP_PROXY: `http://127.0.0.1:${inst.sidecar?.outbound ?? 0}`,
      NO_PROXY: 'localhost',
      FAIL_RATE: String(failRate),
    },
    ready: /bookinfo [^\n]* listening on [^\n]*\n/,
    timeoutMs: 30_000,
  });
}

/** ServiceEntries for every role: endpoints are the instances' sidecar inbound ports. */
export function serviceEntriesYaml(instances: readonly Instance[]): string {
  const roles: Role[] = ['productpage', 'details', 'reviews', 'ratings'];
  const docs = roles.map((role) => {
    const eps = instances
      .filter((i) => i.role === role)
      .map((i) => `    - address: 127.0.0.1\n      ports: { http: ${i.sidecar?.inbound ?? 0} }\n      labels: { app: ${role}, version: ${i.version} }`)
      .join('\n');
    return `# generated by meshlet demo: ${role} instances, reached through their sidecars' inbound ports
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${role}
spec:
  hosts: [${role}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
    - { number: 9080, name: http, protocol: HTTP }
  endpoints:
${eps}
`;
  });
  return docs.join('---\n');
}

/** Writes via a temp name + rename so the control plane's watcher never reads half a file. */
export async function writeConfig(dir: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `.${name}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, join(dir, name));
}
