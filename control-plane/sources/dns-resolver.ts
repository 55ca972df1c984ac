// Resolves the endpoint names of `discovery: 'dns'` clusters in the control
// plane (dns.lookup with all: true, so /etc/hosts and the system resolver both
// apply), refreshes them periodically and reports a cluster only when its set
// of addresses changed, so an unchanged DNS answer never causes a push.
import { lookup as dnsLookup } from 'node:dns/promises';
import type { ClusterModel, EndpointModel } from '../../proxy/config/model/index.js';

export type LookupAll = (name: string) => Promise<readonly string[]>;

export interface DnsResolverOptions {
  /** Called with the new endpoint list of a cluster whose addresses changed. */
  readonly onChange: (clusterName: string, endpoints: readonly EndpointModel[]) => void;
  /** Refresh period (default 5 s). */
  readonly intervalMs?: number;
  /** Injected for tests; defaults to dns.lookup(name, { all: true }). */
  readonly lookup?: LookupAll;
  readonly onError?: (clusterName: string, name: string, err: Error) => void;
}

const systemLookup: LookupAll = async (name) => (await dnsLookup(name, { all: true })).map((a) => a.address);

export class DnsResolver {
  #clusters: readonly ClusterModel[] = [];
  /** cluster name → canonical key of the last reported endpoints. */
  #last = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  readonly #opts: DnsResolverOptions;
  readonly #lookup: LookupAll;

  constructor(opts: DnsResolverOptions) {
    this.#opts = opts;
    this.#lookup = opts.lookup ?? systemLookup;
  }

  /** Replace the set of clusters to resolve (only the dns ones are kept) and resolve now. */
  update(clusters: readonly ClusterModel[]): Promise<void> {
    this.#clusters = clusters.filter((c) => c.discovery === 'dns');
    const names = new Set(this.#clusters.map((c) => c.name));
    for (const name of this.#last.keys()) if (!names.has(name)) this.#last.delete(name);
    if (!this.#timer && !this.#closed && this.#clusters.length > 0) {
      this.#timer = setInterval(() => void this.refresh(), this.#opts.intervalMs ?? 5000);
      this.#timer.unref();
    }
    return this.refresh();
  }

  /** Resolve every dns cluster once; concurrent calls share the run in progress. */
  refresh(): Promise<void> {
    this.#running ??= this.#resolveAll().finally(() => (this.#running = undefined));
    return this.#running;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #resolveAll(): Promise<void> {
    await Promise.all(this.#clusters.map((c) => this.#resolveCluster(c)));
  }

  async #resolveCluster(cluster: ClusterModel): Promise<void> {
    const endpoints: EndpointModel[] = [];
    for (const ep of cluster.endpoints) {
      let addresses: readonly string[];
      try {
        addresses = await this.#lookup(ep.address);
      } catch (err) {
        // Keep the previous answer: a transient DNS failure must not empty a cluster.
        this.#opts.onError?.(cluster.name, ep.address, err as Error);
        return;
      }
      for (const address of addresses) endpoints.push({ address, port: ep.port, labels: ep.labels, weight: ep.weight });
    }
    if (this.#closed) return;
    // Answers may rotate between lookups: sort, so the pushed list (and its hash) is stable.
    endpoints.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
    const key = endpoints.map((e) => `${e.address}:${e.port}/${e.weight}`).join(',');
    if (this.#last.get(cluster.name) === key) return;
    this.#last.set(cluster.name, key);
    this.#opts.onChange(cluster.name, endpoints);
  }
}
