// The control plane's single source of truth: the last good translated config
// (from the file source), overlaid with DNS-resolved endpoints, plus a
// generation counter bumped on every effective change. Endpoint-only updates
// rebuild just the touched clusters: no re-translation.
import type { ClusterModel, ConfigIssue, EndpointModel, MeshConfig } from '../../proxy/config/model/index.js';
import { validateMeshConfig } from '../../proxy/config/validate/index.js';

export interface StoreChange {
  readonly generation: number;
  /** True when only endpoints moved (DNS), false for a config change. */
  readonly endpointsOnly: boolean;
}

export class ConfigStore {
  #base: MeshConfig | undefined;
  #effective: MeshConfig | undefined;
  #resolved = new Map<string, readonly EndpointModel[]>();
  #issues: readonly ConfigIssue[] = [];
  #generation = 0;
  readonly #onChange: (change: StoreChange) => void;

  constructor(onChange: (change: StoreChange) => void = () => {}) {
    this.#onChange = onChange;
  }

  /** The config nodes are built from, or undefined before the first good load. */
  current(): MeshConfig | undefined {
    return this.#effective;
  }

  generation(): number {
    return this.#generation;
  }

  /** Problems of the latest load attempt (empty when it was good). */
  issues(): readonly ConfigIssue[] {
    return this.#issues;
  }

  setIssues(issues: readonly ConfigIssue[]): void {
    this.#issues = issues;
  }

  /**
   * A freshly translated config replaces the previous one, after the model
   * check every sidecar runs on a pushed snapshot: a config a sidecar would
   * NACK is refused here (its issues returned and kept for `meshlet status`)
   * and never pushed; the last good config keeps serving.
   */
  setConfig(config: MeshConfig): readonly ConfigIssue[] {
    const v = validateMeshConfig(config);
    if (!v.ok) {
      this.#issues = v.issues;
      return v.issues;
    }
    this.#base = config;
    this.#issues = [];
    // Resolutions of clusters that no longer exist would leak forever.
    const names = new Set(config.clusters.map((c) => c.name));
    for (const name of this.#resolved.keys()) if (!names.has(name)) this.#resolved.delete(name);
    this.#recompute(false);
    return [];
  }

  /** DNS results for one `discovery: 'dns'` cluster (the resolver only calls this on a change). */
  setResolvedEndpoints(clusterName: string, endpoints: readonly EndpointModel[]): void {
    this.#resolved.set(clusterName, endpoints);
    if (this.#base?.clusters.some((c) => c.name === clusterName)) this.#recompute(true);
  }

  #recompute(endpointsOnly: boolean): void {
    const base = this.#base;
    if (!base) return;
    let clusters: readonly ClusterModel[] = base.clusters;
    if (this.#resolved.size > 0) {
      clusters = base.clusters.map((c) => {
        const eps = c.discovery === 'dns' ? this.#resolved.get(c.name) : undefined;
        // Resolved addresses are IPs, so the sidecar treats the cluster as static.
        return eps ? { ...c, discovery: 'static' as const, endpoints: eps } : c;
      });
    }
    this.#generation++;
    this.#effective = { ...base, version: String(this.#generation), clusters };
    this.#onChange({ generation: this.#generation, endpointsOnly });
  }
}
