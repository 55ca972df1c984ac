// Envoy's response-flag vocabulary, as a bitmask so the hot path sets bits
// instead of building strings. The one table below maps each flag to the local
// reply it causes; access logs, metrics (`response_flags`) and the
// `x-meshlet-flags` header all read from it, so they always agree.

export const Flag = {
  /** No healthy upstream endpoint. */
  UH: 1 << 0,
  /** Upstream connection failure. */
  UF: 1 << 1,
  /** Upstream overflow (circuit breaking). */
  UO: 1 << 2,
  /** No route configured for the request. */
  NR: 1 << 3,
  /** Upstream retry limit exceeded. */
  URX: 1 << 4,
  /** Upstream request timeout. */
  UT: 1 << 5,
  /** Upstream connection termination. */
  UC: 1 << 6,
  /** Upstream remote reset. */
  UR: 1 << 7,
  /** Local reset. */
  LR: 1 << 8,
  /** Downstream connection termination. */
  DC: 1 << 9,
  /** Delay injected by fault. */
  DI: 1 << 10,
  /** Abort injected by fault. */
  FI: 1 << 11,
  /** Upstream protocol error. */
  UPE: 1 << 12,
  /** Downstream protocol error. */
  DPE: 1 << 13,
  /** Request header too large (downstream). */
  RHL: 1 << 14,
} as const;

export type FlagName = keyof typeof Flag;

const ORDER = Object.keys(Flag) as FlagName[];
const cache = new Map<number, string>();

/** Flags as Envoy prints them (`UF,URX`), `-` when none. Cached per bitmask: no allocation per request. */
export function flagsToString(bits: number): string {
  if (bits === 0) return '-';
  let s = cache.get(bits);
  if (s === undefined) {
    const parts: string[] = [];
    for (const name of ORDER) if (bits & Flag[name]) parts.push(name);
    s = parts.join(',');
    cache.set(bits, s);
  }
  return s;
}
