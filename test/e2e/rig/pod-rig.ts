// A one-machine "cluster": pods as network namespaces on one bridge, each
// with Istio-style interception loaded from proxy/interception. The rig knows
// nothing about what runs in a pod; tests spawn apps and sidecars themselves.
import { spawn as spawnChild } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { interceptionScript, ISTIO_DEFAULT_INTERCEPTION, type InterceptionOptions } from '../../../proxy/interception/index.js';
import { createNode, createPod, hostsFile, POD_CIDR_PREFIX, type PodNet } from './netns-plumbing.js';
import { PodProcess } from './pod-process.js';
import { probeNetem, probeRig } from './rig-probe.js';
import { applyNetem, applyPacketLoss } from './traffic-shaping.js';
import { cleanupStale, removeRig, writeRecord } from './rig-cleanup.js';
import { RIG_PATH, runCommand, type CommandResult } from './run-command.js';

export interface PodSpec {
  /** Pod name, e.g. "reviews-v2"; also its hostname in the hosts files. */
  readonly name: string;
  /** Service the pod backs; the name resolves to the service's VIP. */
  readonly service: string;
  /** Pod IP in 10.244.0.0/24; default 10.244.0.(10+i). */
  readonly ip?: string;
  /**
   * This pod's interception instead of the rig's; null = no rules at all (the
   * test applies them itself, e.g. by running an init container's command).
   */
  readonly interception?: InterceptionOptions | null;
}

export interface SpawnOptions {
  /** Run as this uid/gid via setpriv; omitted = root (which is captured like any app). */
  readonly uid?: number;
  readonly gid?: number;
  readonly cmd: string;
  readonly args?: readonly string[];
  /** Added to a clean env (PATH, HOME, and the pod's HOSTNAME/POD_NAME/POD_IP/POD_NAMESPACE). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Also append stdout+stderr to this file. */
  readonly logFile?: string;
}

export interface ExecOptions {
  readonly uid?: number;
  readonly gid?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  readonly timeoutMs?: number;
}

export interface RigOptions {
  /** Namespace-name family; a rig's prefix is `<family><4 hex>-`. Default "mlt". */
  readonly family?: string;
  /** Interception settings; default Istio's (15001/15006, uid 1337, 15090/15021/15020 excluded). */
  readonly interception?: InterceptionOptions;
  /** Keep the rig after this process exits (cli.ts up); cleanupStale then skips it. */
  readonly detached?: boolean;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;
let availability: Promise<{ ok: boolean; why?: string }> | null = null;
let netemSupport: Promise<boolean> | null = null;

export class PodRig {
  readonly prefix: string;
  readonly family: string;
  readonly interception: InterceptionOptions;
  #detached: boolean;
  #pods = new Map<string, PodNet & { service: string; interception?: InterceptionOptions | null }>();
  #vips = new Map<string, string>();
  #procs = new Set<PodProcess>();
  #state: 'new' | 'up' | 'down' = 'new';

  constructor(opts: RigOptions = {}) {
    this.family = opts.family ?? 'mlt';
    this.prefix = `${this.family}${randomBytes(2).toString('hex')}-`;
    this.interception = opts.interception ?? ISTIO_DEFAULT_INTERCEPTION;
    this.#detached = opts.detached ?? false;
  }

  /** Can this machine run a rig? Probes for real: root, netns, iptables nat in a scratch namespace. */
  static available(): Promise<{ ok: boolean; why?: string }> {
    availability ??= probeRig();
    return availability;
  }

  /** Removes leftovers of crashed rigs (owner process gone). See rig-cleanup.ts. */
  static cleanupStale(family = 'mlt', opts: { includeDetached?: boolean } = {}): Promise<string[]> {
    return cleanupStale(family, opts);
  }

  get nodeNs(): string {
    return `${this.prefix}node`;
  }

  nsOf(pod: string): string {
    return this.#pod(pod).ns;
  }

  podIp(pod: string): string {
    return this.#pod(pod).ip;
  }

  vipOf(service: string): string {
    const vip = this.#vips.get(service);
    if (vip === undefined) throw new Error(`no service ${service} in rig ${this.prefix}`);
    return vip;
  }

  /** Pod names backing `service`, in creation order. */
  podsOf(service: string): string[] {
    return [...this.#pods.values()].filter((p) => p.service === service).map((p) => p.name);
  }

  pods(): string[] {
    return [...this.#pods.keys()];
  }

  /** Node-side veth of a pod (for tc on the bridge side). */
  vethOf(pod: string): string {
    return this.#pod(pod).veth;
  }

  /** Builds the node and every pod; on any failure removes what was made and rethrows. */
  async up(pods: readonly PodSpec[]): Promise<void> {
    if (this.#state !== 'new') throw new Error(`rig ${this.prefix} already ${this.#state}`);
    this.#plan(pods);
    this.#state = 'up';
    await cleanupStale(this.family);
    writeRecord(this.prefix, this.#detached);
    try {
      await createNode(this.nodeNs);
      await Promise.all(
        [...this.#pods.values()].map((p) => {
          // The same idempotent script `meshlet iptables --apply` and the init container run.
          const opts = p.interception === undefined ? this.interception : p.interception;
          return createPod(this.nodeNs, p, hostsFile(p.name, p.ip, this.#vips), opts === null ? null : interceptionScript(opts));
        }),
      );
    } catch (err) {
      await this.down();
      throw err;
    }
  }

  /** Kills everything spawned, then removes namespaces, hosts files and the record. Idempotent. */
  async down(): Promise<void> {
    this.#state = 'down';
    await Promise.all([...this.#procs].map((p) => p.kill()));
    this.#procs.clear();
    await removeRig(this.prefix);
  }

  /** Starts a long-running process in a pod (`ip netns exec` + `setpriv`, clean env). */
  spawn(pod: string, opts: SpawnOptions): PodProcess {
    const p = this.#pod(pod);
    return this.#start(p.ns, `${pod}:${opts.cmd}`, opts, this.#podEnv(p));
  }

  /** Starts a process in the node namespace (e.g. Prometheus scraping the pods over the bridge). */
  runInNode(cmd: string, args: readonly string[] = [], opts: Omit<SpawnOptions, 'cmd' | 'args'> = {}): PodProcess {
    return this.#start(this.nodeNs, `node:${cmd}`, { ...opts, cmd, args }, {});
  }

  /** Runs a command to completion in a pod; never throws on a non-zero exit. */
  exec(pod: string, cmd: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<CommandResult> {
    const p = this.#pod(pod);
    const env = { PATH: RIG_PATH, HOME: '/tmp', ...this.#podEnv(p), ...opts.env };
    return runCommand('ip', this.#argv(p.ns, opts.uid, opts.gid, cmd, args), {
      env,
      input: opts.input,
      timeoutMs: opts.timeoutMs ?? 15_000,
      allowFail: true,
    });
  }

  /**
   * Network emulation on a pod's link: `spec` is tc netem's argument list
   * ("delay 100ms 10ms", "loss 5%"); null removes it. side "pod" shapes what the
   * pod sends (its eth0), "node" what it receives (the bridge-side veth).
   */
  async netem(pod: string, spec: string | null, side: 'pod' | 'node' = 'pod'): Promise<void> {
    const p = this.#pod(pod);
    await applyNetem(side === 'pod' ? p.ns : this.nodeNs, side === 'pod' ? 'eth0' : p.veth, spec);
  }

  /** Whether the kernel has the netem qdisc (some VM kernels leave it out). */
  static netemAvailable(): Promise<boolean> {
    netemSupport ??= probeNetem();
    return netemSupport;
  }

  /**
   * Drops this fraction (0..1] of packets arriving at the pod's eth0 (requests
   * to it and replies to its own calls), via the statistic match in the pod's
   * filter table, which works where netem is missing; null removes it. The nat
   * table (interception) is left untouched.
   */
  async packetLoss(pod: string, probability: number | null): Promise<void> {
    await applyPacketLoss(this.#pod(pod).ns, probability);
  }

  #pod(name: string): PodNet & { service: string } {
    const p = this.#pods.get(name);
    if (p === undefined) throw new Error(`no pod ${name} in rig ${this.prefix}`);
    return p;
  }

  #plan(pods: readonly PodSpec[]): void {
    if (pods.length === 0 || pods.length > 200) throw new RangeError('a rig holds 1..200 pods');
    const ips = new Set<string>();
    pods.forEach((spec, i) => {
      if (!NAME_RE.test(spec.name) || spec.name === 'node') throw new RangeError(`bad pod name "${spec.name}"`);
      if (!NAME_RE.test(spec.service)) throw new RangeError(`bad service name "${spec.service}"`);
      if (this.#pods.has(spec.name)) throw new RangeError(`duplicate pod "${spec.name}"`);
      const ip = spec.ip ?? `${POD_CIDR_PREFIX}${10 + i}`;
      const last = Number(ip.slice(POD_CIDR_PREFIX.length));
      if (!ip.startsWith(POD_CIDR_PREFIX) || !Number.isInteger(last) || last < 2 || last > 254 || ips.has(ip)) {
        throw new RangeError(`bad or duplicate pod ip ${ip} (10.244.0.2-254)`);
      }
      ips.add(ip);
      // One VIP per service, as a ClusterIP: only a sidecar turns it into pod IPs.
      if (!this.#vips.has(spec.service)) this.#vips.set(spec.service, `10.96.0.${10 + this.#vips.size}`);
      this.#pods.set(spec.name, { name: spec.name, service: spec.service, ns: `${this.prefix}${spec.name}`, ip, veth: `veth${i + 1}`, interception: spec.interception });
    });
  }

  #podEnv(p: PodNet): Record<string, string> {
    // What Kubernetes' downward API usually gives a pod; namespaces share the machine's hostname.
    return { HOSTNAME: p.name, POD_NAME: p.name, POD_IP: p.ip, POD_NAMESPACE: 'default' };
  }

  #argv(ns: string, uid: number | undefined, gid: number | undefined, cmd: string, args: readonly string[]): string[] {
    if (uid === undefined) return ['netns', 'exec', ns, cmd, ...args];
    const g = String(gid ?? uid);
    return ['netns', 'exec', ns, 'setpriv', `--reuid=${uid}`, `--regid=${g}`, '--clear-groups', '--', cmd, ...args];
  }

  #start(ns: string, label: string, opts: SpawnOptions, extraEnv: Record<string, string>): PodProcess {
    if (this.#state !== 'up') throw new Error(`rig ${this.prefix} is not up`);
    const env = { PATH: RIG_PATH, HOME: '/tmp', ...extraEnv, ...opts.env };
    // `ip netns exec` and `setpriv` both exec(), so the pid is the program itself.
    const child = spawnChild('ip', this.#argv(ns, opts.uid, opts.gid, opts.cmd, opts.args ?? []), {
      env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new PodProcess(label, child, opts.logFile);
    this.#procs.add(proc);
    void proc.exited.then(() => this.#procs.delete(proc));
    return proc;
  }
}

/** Free function form of PodProcess.waitForLine, as the rig's API names it. */
export function waitForLine(proc: PodProcess, re: RegExp, timeoutMs: number): Promise<string> {
  return proc.waitForLine(re, timeoutMs);
}
