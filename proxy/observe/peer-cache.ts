// The callers' identities seen on the inbound side (`x-meshlet-peer`, which
// can be forged until mTLS carries identity), bounded by recency: at most
// `max` distinct values, and a new one evicts the least recently seen, with
// every metric series that carried it. Forged values then churn among
// themselves while callers that keep calling stay; first-come bounding would
// let 1,100 forged values push genuine callers into `unknown` for good.
// A hit costs one Map lookup and an integer write; the O(max) scan for the
// oldest entry happens only when a new value arrives at a full cache.
import { decodePeer, type WorkloadIdentity } from './peer.js';

export interface PeerEntry {
  readonly raw: string;
  readonly id: WorkloadIdentity;
  seen: number;
  /** Cache maps that hold series under this raw value (removed on eviction). */
  readonly holders: Map<unknown, unknown>[];
  /** Registry keys of the series labelled with this peer (unbound on eviction). */
  readonly seriesKeys: string[];
}

export class PeerCache {
  readonly #entries = new Map<string, PeerEntry>();
  readonly #max: number;
  readonly #onEvict: (e: PeerEntry) => void;
  #tick = 0;
  #evicted = 0;

  constructor(max: number, onEvict: (e: PeerEntry) => void) {
    this.#max = Math.max(1, max);
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#entries.size;
  }

  get evicted(): number {
    return this.#evicted;
  }

  /** The entry for `raw`, admitted (evicting the least recently seen when full) if new; marks it seen. */
  touch(raw: string): PeerEntry {
    let e = this.#entries.get(raw);
    if (e === undefined) {
      if (this.#entries.size >= this.#max) this.#evictOldest();
      e = { raw, id: decodePeer(raw), seen: 0, holders: [], seriesKeys: [] };
      this.#entries.set(raw, e);
    }
    e.seen = ++this.#tick;
    return e;
  }

  get(raw: string): PeerEntry | undefined {
    return this.#entries.get(raw);
  }

  #evictOldest(): void {
    let oldest: PeerEntry | undefined;
    for (const e of this.#entries.values()) if (oldest === undefined || e.seen < oldest.seen) oldest = e;
    if (oldest === undefined) return;
    this.#entries.delete(oldest.raw);
    this.#evicted++;
    for (const h of oldest.holders) h.delete(oldest.raw);
    this.#onEvict(oldest);
  }
}
