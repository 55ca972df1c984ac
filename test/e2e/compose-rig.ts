// Runs a docker-compose file's topology in the pod rig, without Docker: each
// service that owns a network namespace becomes a pod, services with
// network_mode: service:X run inside X's pod (as containers of one pod do),
// names and network aliases resolve to pod IPs through each pod's /etc/hosts
// (an alias shared by replicas resolves to all of them, as Docker's DNS
// does), named volumes are scratch directories, and every service runs the
// same command, environment and user as in the file, started in depends_on
// order with its conditions (completed successfully, healthy). The meshlet
// image is this checkout (`meshlet` is bin/meshlet.js, WORKDIR /opt/meshlet is
// the repository root); third-party images run as stand-ins: Debian's
// prometheus binary, and the test OTLP sink for Jaeger.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodRig, runCommand, type CommandResult, type PodProcess } from './rig/index.js';
import { NETNS_ETC } from './rig/rig-cleanup.js';
import { RIG_PATH } from './rig/run-command.js';
import { ROOT, until } from '../support/meshlet-process.js';
import { loadComposeFile, startOrder, type ComposeFile, type ComposeService } from '../support/compose-file.js';

const MESHLET_IMAGE = 'meshlet:dev';
// The Dockerfile's WORKDIR, ENTRYPOINT and USER.
const IMAGE_WORKDIR = '/opt/meshlet';
const IMAGE_ENTRYPOINT = ['meshlet'];
const IMAGE_USER = { uid: 1337, gid: 1337 };

/** How a third-party image's service runs here; null = not run (the test says so). */
export type StandIn = (svc: ComposeService, rig: ComposeRig) => { cmd: string; args: string[]; env?: Record<string, string> } | null;

export class ComposeRig {
  readonly file: ComposeFile;
  readonly rig = new PodRig({ family: 'cmp' });
  readonly work = mkdtempSync(join(tmpdir(), 'meshlet-compose-'));
  readonly procs = new Map<string, PodProcess>();
  readonly notRun: string[] = [];
  #pods = new Map<string, string>();
  #volumes = new Map<string, string>();
  #binDir = join(this.work, 'bin');

  constructor(path: string, private readonly standIns: Readonly<Record<string, StandIn>>) {
    this.file = loadComposeFile(path);
  }

  /** The pod (network namespace) a service runs in. */
  podOf(service: string): string {
    const s = this.file.services.get(service);
    if (s === undefined) throw new Error(`no service ${service}`);
    return s.joins === undefined ? service : this.podOf(s.joins);
  }

  ipOf(service: string): string {
    return this.rig.podIp(this.podOf(service));
  }

  logOf(service: string): string {
    return join(this.work, `${service}.log`);
  }

  /** Builds the pods, then starts every service in dependency order, each when its conditions hold. */
  async up(prepare: (rig: ComposeRig, pod: string) => Promise<void> = async () => {}): Promise<void> {
    chmodSync(this.work, 0o755);
    mkdirSync(this.#binDir);
    // `meshlet` and `node` as the image has them on PATH.
    writeFileSync(join(this.#binDir, 'meshlet'), `#!/bin/sh\nexec ${process.execPath} ${join(ROOT, 'bin/meshlet.js')} "$@"\n`, { mode: 0o755 });
    symlinkSync(process.execPath, join(this.#binDir, 'node'));
    const owners = [...this.file.services.values()].filter((s) => s.joins === undefined);
    await this.rig.up(owners.map((s) => ({ name: s.name, service: s.name })));
    owners.forEach((s) => this.#pods.set(s.name, this.rig.podIp(s.name)));
    // Docker's DNS: every service name and alias → the IPs of its network owner(s).
    const names = new Map<string, string[]>();
    for (const s of owners) for (const n of [s.name, ...s.aliases]) names.set(n, [...(names.get(n) ?? []), this.rig.podIp(s.name)]);
    const hosts = ['127.0.0.1 localhost', ...[...names].flatMap(([n, ips]) => ips.map((ip) => `${ip} ${n}`))].join('\n') + '\n';
    for (const s of owners) {
      writeFileSync(join(NETNS_ETC, this.rig.nsOf(s.name), 'hosts'), hosts);
      // A container starts with no interception; the rig's pods come with it loaded.
      await this.podShell(s.name, 'iptables -t nat -F && iptables -t nat -X');
      await prepare(this, s.name);
    }
    const started = new Map<string, Promise<void>>();
    const start = (s: ComposeService): Promise<void> => {
      let p = started.get(s.name);
      if (p === undefined) {
        p = this.#startWhenReady(s, started);
        started.set(s.name, p);
      }
      return p;
    };
    await Promise.all(startOrder(this.file).map(start));
  }

  async #startWhenReady(s: ComposeService, started: Map<string, Promise<void>>): Promise<void> {
    for (const [dep, cond] of s.dependsOn) {
      await started.get(dep);
      const proc = this.procs.get(dep);
      if (proc === undefined) continue;
      if (cond === 'service_completed_successfully') {
        const exit = await proc.exited;
        if (exit.code !== 0) throw new Error(`${dep} exited ${exit.code ?? exit.signal} (needed by ${s.name}):\n${proc.output()}`);
      } else if (cond === 'service_healthy') {
        await this.#healthy(this.file.services.get(dep)!, proc);
      }
    }
    const run = this.#command(s);
    if (run === null) {
      this.notRun.push(s.name);
      return;
    }
    const user = s.user ?? (s.image === MESHLET_IMAGE ? IMAGE_USER : undefined);
    const proc = this.rig.spawn(this.podOf(s.name), {
      uid: user?.uid === 0 ? undefined : user?.uid,
      gid: user?.uid === 0 ? undefined : user?.gid,
      cmd: run.cmd,
      args: run.args,
      env: { PATH: `${this.#binDir}:${RIG_PATH}`, ...this.#env(s), ...run.env },
      cwd: ROOT,
      logFile: this.logOf(s.name),
    });
    this.procs.set(s.name, proc);
  }

  async #healthy(s: ComposeService, proc: PodProcess): Promise<void> {
    const test = s.healthcheck;
    if (test === undefined) throw new Error(`${s.name} has no healthcheck`);
    const [cmd = '', ...args] = test.map((a) => this.mapPaths(s, a));
    await until(async () => {
      if (!proc.running) throw new Error(`${s.name} exited before it was healthy:\n${proc.output()}`);
      const r = await this.exec(s.name, cmd, args);
      return r.code === 0;
    }, 60_000, 500);
  }

  #command(s: ComposeService): { cmd: string; args: string[]; env?: Record<string, string> } | null {
    if (s.image !== MESHLET_IMAGE) return this.standIns[s.name]?.(s, this) ?? null;
    const argv = [...(s.entrypoint ?? IMAGE_ENTRYPOINT), ...(s.command ?? [])].map((a) => this.mapPaths(s, a));
    const [cmd = '', ...args] = argv;
    return { cmd: cmd === 'meshlet' || cmd === 'node' ? join(this.#binDir, cmd) : cmd, args };
  }

  #env(s: ComposeService): Record<string, string> {
    return Object.fromEntries(Object.entries(s.environment).map(([k, v]) => [k, this.mapPaths(s, v)]));
  }

  /** A container path in `text` → where it lives here (mounts of the service, the image's WORKDIR). */
  mapPaths(s: ComposeService, text: string): string {
    const map: Array<[string, string]> = [[IMAGE_WORKDIR, ROOT]];
    for (const [dst, src] of s.mounts) map.push([dst, src.startsWith('volume:') ? this.#volume(src.slice(7)) : src]);
    map.sort((a, b) => b[0].length - a[0].length);
    let out = text;
    for (const [dst, src] of map) out = out.replace(new RegExp(`(^|[\\s=:'"])${dst.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=$|[/\\s'":])`, 'g'), `$1${src}`);
    return out;
  }

  #volume(name: string): string {
    let dir = this.#volumes.get(name);
    if (dir === undefined) {
      dir = join(this.work, `volume-${name}`);
      // A fresh Docker volume: root-owned, 0755.
      mkdirSync(dir, { mode: 0o755 });
      this.#volumes.set(name, dir);
    }
    return dir;
  }

  /** Runs a command in a service's pod as root. */
  exec(service: string, cmd: string, args: readonly string[] = [], timeoutMs = 15_000): Promise<CommandResult> {
    return this.rig.exec(this.podOf(service), cmd === 'node' ? process.execPath : cmd, args, { timeoutMs, env: { PATH: `${this.#binDir}:${RIG_PATH}` } });
  }

  podShell(pod: string, script: string): Promise<CommandResult> {
    return runCommand('ip', ['netns', 'exec', this.rig.nsOf(pod), 'sh', '-c', script], { env: { PATH: RIG_PATH } });
  }

  /** A GET from the node namespace (the host side of a published port). */
  async nodeGet(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
    const js = `fetch(process.argv[1], { signal: AbortSignal.timeout(${timeoutMs}) }).then(async (r) => console.log(r.status + '\\n' + (await r.text())), (e) => console.log('0\\n' + (e.cause?.code || e.name)));`;
    const r = await runCommand('ip', ['netns', 'exec', this.rig.nodeNs, process.execPath, '-e', js, url], { env: { PATH: RIG_PATH }, timeoutMs: timeoutMs + 5000, allowFail: true });
    const nl = r.stdout.indexOf('\n');
    return { status: Number(r.stdout.slice(0, nl)) || 0, body: r.stdout.slice(nl + 1) };
  }

  /** `count` GETs in a row from the node namespace, in one process (a process per request is slow on a loaded machine). */
  async nodeGetMany(url: string, count: number, timeoutMs = 10_000): Promise<Array<{ status: number; body: string }>> {
    const js = `const out = []; for (let i = 0; i < ${count}; i++) { try { const r = await fetch(process.argv[1], { signal: AbortSignal.timeout(${timeoutMs}) }); out.push({ status: r.status, body: await r.text() }); } catch (e) { out.push({ status: 0, body: String(e.cause?.code || e.name) }); } } console.log(JSON.stringify(out));`;
    const r = await runCommand('ip', ['netns', 'exec', this.rig.nodeNs, process.execPath, '--input-type=module', '-e', js, url], { env: { PATH: RIG_PATH }, timeoutMs: count * (timeoutMs + 1000) + 5000 });
    return JSON.parse(r.stdout) as Array<{ status: number; body: string }>;
  }

  async down(keep = false): Promise<void> {
    try {
      await this.rig.down();
    } finally {
      if (!keep) rmSync(this.work, { recursive: true, force: true });
    }
  }
}
