// The control plane's config inputs behind one face: a directory of Istio YAML
// (all-or-nothing, as before), the Kubernetes API, or both merged (files win
// on clashes). Emits a translated config plus the issues that go with it.
import type { ConfigIssue, MeshConfig } from '../../proxy/config/model/index.js';
import { loadIstioPath, type IstioResource } from '../../proxy/config/index.js';
import { FileSource } from './file-source.js';
import { loadIstioDir, type ConfigLoader } from './istio-loader.js';
// Type-only: @kubernetes/client-node takes seconds to import, so files-only mode never loads it.
import type { KubernetesSource, KubernetesSourceStatus } from './kubernetes/kubernetes-source.js';
import type { InformerTiming } from './kubernetes/supervised-informer.js';
import { mergeSources } from './merge-sources.js';

export interface KubernetesOptions {
  /** Kubeconfig path; undefined = in-cluster service account (or the default kubeconfig). */
  readonly kubeconfig?: string;
  readonly timing?: InformerTiming;
  /** Startup waits this long for the first list of every watch (default 10 s). */
  readonly syncTimeoutMs?: number;
  readonly debounceMs?: number;
}

export interface MeshSourcesOptions {
  readonly configDir?: string;
  readonly kubernetes?: KubernetesOptions;
  /** Files-only loader (default: the Istio directory loader). */
  readonly load?: ConfigLoader;
  /** Extra resources merged like files in Kubernetes mode (experiment overlays). */
  readonly overlays?: () => readonly IstioResource[];
  readonly watchDebounceMs?: number;
  readonly rescanMs?: number;
  /** A config to serve, with the problems found on the way (resources left out, clash warnings). */
  readonly onConfig: (config: MeshConfig, issues: readonly ConfigIssue[]) => void;
  /** Nothing could be applied: keep serving the last good config. */
  readonly onRejected: (issues: readonly ConfigIssue[]) => void;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export interface SourceStatusRow {
  readonly name: string;
  readonly stale: boolean;
  /** ISO time the source went stale ('' when fresh). */
  readonly staleSince: string;
  readonly detail: string;
}

export class MeshSources {
  readonly #o: MeshSourcesOptions;
  readonly #files: FileSource<unknown> | undefined;
  #kubernetesSource: KubernetesSource | undefined;
  #fileResources: readonly IstioResource[] = [];
  #fileIssues: readonly ConfigIssue[] = [];
  #fileWarnings: readonly ConfigIssue[] = [];
  #kube: { resources: readonly IstioResource[]; issues: readonly ConfigIssue[] } = { resources: [], issues: [] };

  constructor(opts: MeshSourcesOptions) {
    this.#o = opts;
    const fileTiming = { debounceMs: opts.watchDebounceMs, rescanMs: opts.rescanMs };
    if (!opts.kubernetes) {
      if (opts.configDir === undefined) throw new Error('a config directory or the Kubernetes source is required');
      this.#files = new FileSource<MeshConfig>({
        dir: opts.configDir,
        load: opts.load ?? loadIstioDir,
        ...fileTiming,
        onConfig: (config, warnings) => opts.onConfig(config, warnings),
        onIssues: (issues) => opts.onRejected(issues),
      }) as FileSource<unknown>;
      return;
    }
    if (opts.configDir !== undefined) {
      this.#files = new FileSource<readonly IstioResource[]>({
        dir: opts.configDir,
        ...fileTiming,
        load: async (dir) => {
          const loaded = await loadIstioPath(dir);
          return loaded.issues.length === 0 ? { ok: true, config: loaded.resources, warnings: loaded.warnings } : { ok: false, issues: loaded.issues };
        },
        onConfig: (resources, warnings) => {
          this.#fileResources = resources;
          this.#fileWarnings = warnings;
          this.#fileIssues = [];
          this.#apply();
        },
        // A broken file keeps its directory's last good resources, as in files-only mode.
        onIssues: (issues) => {
          this.#fileIssues = issues;
          this.#apply();
        },
      }) as FileSource<unknown>;
    }
  }

  /** The Kubernetes source once started (pod lookups for the identity check). */
  get kubernetes(): KubernetesSource | undefined {
    return this.#kubernetesSource;
  }

  async start(): Promise<void> {
    // Kubernetes first, so the files' first merge already sees the cluster.
    const k = this.#o.kubernetes;
    if (k) {
      const { KubernetesSource } = await import('./kubernetes/kubernetes-source.js');
      const source = (this.#kubernetesSource = new KubernetesSource({
        ...(k.kubeconfig !== undefined ? { kubeconfig: k.kubeconfig } : {}),
        ...(k.timing ? { timing: k.timing } : {}),
        ...(k.debounceMs !== undefined ? { debounceMs: k.debounceMs } : {}),
        log: this.#o.log,
        onUpdate: (u) => {
          this.#kube = u;
          this.#apply();
        },
      }));
      const synced = await source.start(k.syncTimeoutMs);
      if (!synced) this.#o.log('warn', 'kubernetes: not every watch has listed yet; serving what is known and retrying');
    }
    await this.#files?.start();
  }

  status(): SourceStatusRow[] {
    if (!this.#kubernetesSource) return [];
    const st: KubernetesSourceStatus = this.#kubernetesSource.status();
    const since = st.informers.reduce<number | undefined>((m, i) => (i.staleSince !== undefined && (m === undefined || i.staleSince < m) ? i.staleSince : m), undefined);
    const detail = st.informers
      .filter((i) => i.state !== 'synced')
      .map((i) => `${i.name}: ${i.state}${i.lastError ? ` (${i.lastError})` : ''}`)
      .join('; ');
    return [{ name: 'kubernetes', stale: st.stale, staleSince: since !== undefined ? new Date(since).toISOString() : '', detail }];
  }

  /** Reload files (and re-merge), serialised with the watcher's reloads. */
  async reload(): Promise<void> {
    if (this.#files) await this.#files.reload();
    else this.#apply();
  }

  close(): void {
    this.#files?.close();
    this.#kubernetesSource?.close();
  }

  #apply(): void {
    const merged = mergeSources([...this.#fileResources, ...(this.#o.overlays?.() ?? [])], this.#kube.resources);
    const issues = [...this.#fileIssues, ...this.#kube.issues, ...merged.issues, ...this.#fileWarnings];
    if (merged.config) this.#o.onConfig(merged.config, issues);
    else this.#o.onRejected(issues);
  }
}
