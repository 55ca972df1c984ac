import { CLUSTER_DOMAIN } from '../../config/model/index.js';

export interface HostIndexEntry<T> {
  /** Fully-qualified domains, no port; `*` = default, `*.example.com` = suffix wildcard. */
  readonly domains: readonly string[];
  readonly value: T;
}

/** Cache marker for "looked up, nothing matched" (a Map miss means "not looked up yet"). */
const MISS: unique symbol = Symbol('miss');

/** Past this many distinct Host values the cache is dropped, so hostile Hosts cannot grow memory. */
const CACHE_LIMIT = 10_000;

/**
 * Virtual-host lookup by Host / :authority, the way a Kubernetes client names
 * services. For `reviews.default.svc.cluster.local` it also answers
 * `reviews.default.svc` and `reviews.default` from any namespace, and bare
 * `reviews` from the proxy's own namespace, all with or without `:port`,
 * case-insensitive, with or without a trailing dot. IPv6 literals are written
 * `[::1]:8080` in Host and match a domain `::1` or `[::1]`.
 *
 * Precedence: a domain written literally beats a derived short form (so a
 * ServiceEntry for host `reviews` wins over the alias of a Kubernetes service),
 * then `*.suffix` wildcards (longest suffix first, at least one character
 * before it, like Envoy), then `*`. Among duplicates the first entry wins.
 *
 * Cost: hash-map lookups, O(labels) for wildcards, independent of the number
 * of domains; repeated Host values are answered from a bounded cache without
 * allocating.
 */
export class HostIndex<T> {
  private readonly exact = new Map<string, T>();
  private readonly suffixes = new Map<string, T>();
  private readonly fallback: T | typeof MISS = MISS;
  private readonly cache = new Map<string, T | typeof MISS>();

  constructor(entries: readonly HostIndexEntry<T>[], namespace: string, clusterDomain: string = CLUSTER_DOMAIN) {
    const kubeSuffix = `.svc.${clusterDomain.toLowerCase().replace(/^svc\./, '')}`;
    let fallback: T | typeof MISS = MISS;
    for (const { domains, value } of entries) {
      for (const raw of domains) {
        const d = normalizeDomain(raw);
        if (d === '*') {
          if (fallback === MISS) fallback = value;
        } else if (d.startsWith('*.')) {
          const suffix = d.slice(1);
          if (!this.suffixes.has(suffix)) this.suffixes.set(suffix, value);
        } else if (!this.exact.has(d)) this.exact.set(d, value);
      }
    }
    // Short forms second, so they never shadow a literal domain.
    const ns = namespace.toLowerCase();
    for (const { domains, value } of entries) {
      for (const raw of domains) {
        const d = normalizeDomain(raw);
        if (!d.endsWith(kubeSuffix)) continue;
        const nameNs = d.slice(0, d.length - kubeSuffix.length);
        const dot = nameNs.indexOf('.');
        if (dot <= 0 || nameNs.indexOf('.', dot + 1) >= 0) continue; // not `name.namespace`
        this.alias(`${nameNs}.svc`, value);
        this.alias(nameNs, value);
        if (nameNs.slice(dot + 1) === ns) this.alias(nameNs.slice(0, dot), value);
      }
    }
    this.fallback = fallback;
  }

  lookup(hostHeader: string): T | undefined {
    const cached = this.cache.get(hostHeader);
    if (cached !== undefined) return cached === MISS ? undefined : cached;
    const found = this.resolve(hostHeader);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(hostHeader, found);
    return found === MISS ? undefined : found;
  }

  /** Distinct names indexed (literal + derived + wildcard suffixes), for config dumps. */
  get size(): number {
    return this.exact.size + this.suffixes.size + (this.fallback === MISS ? 0 : 1);
  }

  private alias(name: string, value: T): void {
    if (!this.exact.has(name)) this.exact.set(name, value);
  }

  private resolve(host: string): T | typeof MISS {
    let name: string;
    if (host.charCodeAt(0) === 91 /* [ */) {
      const close = host.indexOf(']');
      name = close < 0 ? host.slice(1) : host.slice(1, close);
    } else {
      const colon = host.indexOf(':');
      // One colon is a port; several (bare IPv6, invalid in Host) are kept whole.
      name = colon >= 0 && host.indexOf(':', colon + 1) < 0 ? host.slice(0, colon) : host;
    }
    name = name.toLowerCase();
    if (name.endsWith('.')) name = name.slice(0, -1);
    const hit = this.exact.get(name);
    if (hit !== undefined || this.exact.has(name)) return hit as T;
    if (this.suffixes.size > 0) {
      for (let dot = name.indexOf('.', 1); dot > 0; dot = name.indexOf('.', dot + 1)) {
        const s = this.suffixes.get(name.slice(dot));
        if (s !== undefined || this.suffixes.has(name.slice(dot))) return s as T;
      }
    }
    return this.fallback;
  }
}

function normalizeDomain(raw: string): string {
  let d = raw.trim().toLowerCase();
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (d.startsWith('[') && d.endsWith(']')) d = d.slice(1, -1);
  return d;
}
