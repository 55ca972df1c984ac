// Owns every ClusterRuntime by name. A config swap calls `sync`, which creates,
// updates and retires clusters; DNS clusters are re-resolved periodically with
// dns.lookup (getaddrinfo, so /etc/hosts is honoured, as compose and the pod
// rig need; dns.resolve would skip it).
import { lookup } from 'node:dns/promises';
import type { MeshConfig } from '../config/model/index.js';
import type { MeshTls } from '../identity/mesh-tls.js';
import { ClusterRuntime, NO_RETIREMENT, type EndpointRetirement } from './cluster.js';

export interface RegistryOptions {
  /** How often DNS clusters are re-resolved. */
  readonly dnsRefreshMs: number;
  /** The workload certificate's TLS (mesh mTLS); absent = no identity (standalone, --insecure). */
  readonly meshTls?: MeshTls;
}

export class UpstreamRegistry {
  readonly #clusters = new Map<string, ClusterRuntime>();
  /** host name → last resolved addresses (sorted), shared by every DNS cluster using that name. */
  readonly #dns = new Map<string, string[]>();
  #timer: NodeJS.Timeout | undefined;
  readonly #opts: RegistryOptions;
  #retirement: EndpointRetirement = NO_RETIREMENT;

  constructor(opts: RegistryOptions) {
    this.#opts = opts;
  }

  /** Set once at start-up, before the first sync: who disposes per-endpoint state kept outside upstream/. */
  setRetirement(r: EndpointRetirement): void {
    this.#retirement = r;
  }

  get(name: string): ClusterRuntime | undefined {
    return this.#clusters.get(name);
  }

  all(): IterableIterator<ClusterRuntime> {
    return this.#clusters.values();
  }

  /**
   * Applies a config: adds and updates clusters, and returns `prune`, which
   * retires the clusters the config dropped. Call prune after the new snapshot
   * is swapped in, so no request can still be routed to a closed cluster.
   * Resolves DNS names not seen before first, so a new cluster is never empty by accident.
   */
  sync(config: MeshConfig): { prune: () => void; resolved: Promise<void> } {
    const names = new Set<string>();
    for (const c of config.clusters) if (c.discovery === 'dns') for (const e of c.endpoints) names.add(e.address);
    // New names are resolved in the background; their clusters fill in when the answer arrives.
    const fresh = [...names].filter((n) => !this.#dns.has(n));
    const resolved = fresh.length === 0 ? Promise.resolve() : Promise.all(fresh.map((n) => this.#resolve(n))).then(() => this.#reapply(fresh));
    const keep = new Set<string>();
    for (const model of config.clusters) {
      keep.add(model.name);
      const existing = this.#clusters.get(model.name);
      if (existing === undefined) {
        const c = new ClusterRuntime(model, this.#retirement, this.#opts.meshTls);
        if (model.discovery === 'dns') c.update(model, this.#lookupCached);
        this.#clusters.set(model.name, c);
      } else {
        existing.update(model, model.discovery === 'dns' ? this.#lookupCached : undefined);
      }
    }
    for (const n of [...this.#dns.keys()]) if (!names.has(n)) this.#dns.delete(n);
    if (names.size > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#refresh(), this.#opts.dnsRefreshMs);
      this.#timer.unref();
    } else if (names.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    const prune = (): void => {
      for (const [name, c] of this.#clusters) {
        if (!keep.has(name)) {
          // Requests in flight keep their endpoint objects; undici's close() lets them finish.
          c.close();
          this.#clusters.delete(name);
        }
      }
    };
    return { prune, resolved };
  }

  readonly #lookupCached = (name: string): readonly string[] => this.#dns.get(name) ?? [];

  async #resolve(name: string): Promise<boolean> {
    let addrs: string[];
    try {
      const res = await lookup(name, { all: true, family: 0 });
      addrs = [...new Set(res.map((r) => r.address))].sort();
    } catch {
      // Keep the last good answer: a DNS hiccup must not empty a cluster.
      if (this.#dns.has(name)) return false;
      addrs = [];
    }
    const prev = this.#dns.get(name);
    this.#dns.set(name, addrs);
    return prev === undefined || prev.join(',') !== addrs.join(',');
  }

  async #refresh(): Promise<void> {
    const changed = (await Promise.all([...this.#dns.keys()].map(async (n) => ((await this.#resolve(n)) ? n : undefined)))).filter(
      (n): n is string => n !== undefined,
    );
    this.#reapply(changed);
  }

  #reapply(changed: readonly string[]): void {
    if (changed.length === 0) return;
    for (const c of this.#clusters.values()) {
      if (c.model.discovery === 'dns' && c.model.endpoints.some((e) => changed.includes(e.address))) c.update(c.model, this.#lookupCached);
    }
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const c of this.#clusters.values()) c.close();
    this.#clusters.clear();
  }
}
