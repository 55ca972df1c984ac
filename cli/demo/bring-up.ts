// Start-up order for the demo mesh. Sidecars need the control plane's port,
// apps need their sidecar's outbound port, and the ServiceEntries need the
// sidecars' inbound ports, so: control plane → sidecars (ports 0, read back)
// → config files → apps (on ports reserved up front) → wait for every sidecar
// to be SYNCED and for one page to load end to end.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { fetchStatus, startControlPlane, syncState, type RunningControlPlane } from '../../control-plane/index.js';
import type { AdminCallOptions } from '../../control-plane/server/index.js';
import { planInstances, serviceEntriesYaml, startApp, startSidecar, writeConfig, type Instance } from './mesh.js';
import { COPIED_FILES } from './scenario.js';
import type { Supervisor } from './supervisor.js';
import { TrafficDriver } from './traffic.js';

export interface Mesh {
  readonly cp: RunningControlPlane;
  readonly cpTarget: string;
  /** TLS (and loopback) options for the admin RPCs. */
  readonly adminCall: AdminCallOptions;
  /** The control plane's root, for `meshlet status --ca-cert`. */
  readonly caCertFile: string;
  readonly instances: Instance[];
}

/** Where the demo keeps its CA and bootstrap tokens (removed with the config dir). */
export const pkiDirFor = (configDir: string): string => `${configDir}.pki`;

/** One bootstrap token per instance (node id = instance name, service account = its app), as an operator would provision them. */
async function provisionTokens(pki: string, instances: readonly Instance[]): Promise<string> {
  await mkdir(pki, { recursive: true, mode: 0o700 });
  const entries = [];
  for (const inst of instances) {
    const token = randomBytes(24).toString('hex');
    inst.tokenFile = join(pki, `${inst.name}.token`);
    await writeFile(inst.tokenFile, token + '\n', { mode: 0o600 });
    entries.push({ token, nodeId: inst.name, namespace: 'default', serviceAccount: `bookinfo-${inst.role}` });
  }
  const file = join(pki, 'bootstrap-tokens.yaml');
  await writeFile(file, stringify(entries), { mode: 0o600 });
  return file;
}

export interface BringUpDeps {
  readonly sup: Supervisor;
  readonly root: string;
  readonly configDir: string;
  /** done/total and what is happening now. */
  readonly progress: (done: number, total: number, what: string) => void;
  /** The control plane's own log lines (warnings and errors). */
  readonly cpLog: (line: string) => void;
  /** True once the user asked to stop: abandon start-up between stages. */
  readonly stopped: () => boolean;
  /** The control plane is closed by the caller, even if a later stage fails. */
  readonly onControlPlane: (cp: RunningControlPlane) => void;
}

class Stopped extends Error {}
export const isStopped = (e: unknown): boolean => e instanceof Stopped;

async function until(what: string, timeoutMs: number, stopped: () => boolean, fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (stopped()) throw new Stopped();
    if (await fn().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function bringUp(d: BringUpDeps): Promise<Mesh> {
  const check = (): void => {
    if (d.stopped()) throw new Stopped();
  };
  const instances = await planInstances();
  const apps = instances.filter((i) => i.appPort > 0);
  const total = 1 + instances.length + apps.length + 2;
  let done = 0;
  const step = (what: string): void => d.progress(done, total, what);

  step('starting the control plane');
  const pki = pkiDirFor(d.configDir);
  const bootstrapTokensFile = await provisionTokens(pki, instances);
  const cp = await startControlPlane({
    configDir: d.configDir,
    // The secure path, as in production: the control plane is the mesh's CA and
    // admits only sidecars holding one of the bootstrap tokens.
    security: { caDir: join(pki, 'ca'), bootstrapTokensFile },
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    metricsPort: 0,
    rescanMs: 500,
    log: (level, msg) => {
      if (level !== 'info') d.cpLog(`control plane ${level}: ${msg.split('\n')[0] ?? ''}`);
    },
  });
  d.onControlPlane(cp);
  const cpTarget = `127.0.0.1:${cp.port}`;
  const caCertFile = join(pki, 'ca', 'root-cert.pem');
  const adminCall: AdminCallOptions = { creds: credentials.createSsl(Buffer.from(cp.rootCertPem ?? '')) };
  done++;
  check();

  step(`starting ${instances.length} sidecars`);
  await Promise.all(
    instances.map(async (inst) => {
      await startSidecar(d.sup, d.root, cpTarget, caCertFile, inst);
      done++;
      step(`sidecar ${inst.name} up (outbound :${inst.sidecar?.outbound}, inbound :${inst.sidecar?.inbound})`);
    }),
  );
  check();

  await writeConfig(d.configDir, '10-service-entries.yaml', serviceEntriesYaml(instances));
  for (const f of COPIED_FILES) await copyFile(join(d.root, 'examples/config', f), join(d.configDir, f));

  step(`starting ${apps.length} bookinfo services`);
  await Promise.all(
    apps.map(async (inst) => {
      await startApp(d.sup, d.root, inst);
      done++;
      step(`${inst.name} up on :${inst.appPort}`);
    }),
  );
  check();

  step('waiting for every sidecar to ACK the config');
  await until('all sidecars SYNCED', 60_000, d.stopped, async () => {
    const st = await fetchStatus(cpTarget, { ...adminCall, timeoutMs: 2000 });
    return st.nodes.length === instances.length && st.nodes.every((n) => syncState(n) === 'SYNCED');
  });
  done++;

  step('loading one page end to end');
  const probe = new TrafficDriver(instances[0]?.sidecar?.outbound ?? 0, 1);
  try {
    await until('a first page through the mesh', 30_000, d.stopped, () => probe.request(false));
  } finally {
    await probe.stop();
  }
  done++;
  step('mesh ready');
  return { cp, cpTarget, adminCall, caCertFile, instances };
}
