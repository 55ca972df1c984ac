// Envoy's response-flag vocabulary, as a bitmask so the hot path sets bits
// instead of building strings. flagsToString renders a mask the one way access
// logs, metrics (`response_flags`) and the `x-meshlet-flags` header print it,
// so they always agree. The status and headers of the local reply a failure
// causes travel with its MeshletError (errors/index.ts).

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
  /** Downstream connection termination. */
  DC: 1 << 8,
  /** Delay injected by fault. */
  DI: 1 << 9,
  /** Abort injected by fault. */
  FI: 1 << 10,
  /** Upstream protocol error. */
  UPE: 1 << 11,
  /** Downstream protocol error. */
  DPE: 1 << 12,
  /** Request header too large (downstream). */
  RHL: 1 << 13,
  /** Stream idle timeout (no bytes either way for --stream-idle-timeout). */
  SI: 1 << 14,
  /** Denied by an AuthorizationPolicy (Envoy's RBAC filter). */
  RBAC: 1 << 15,
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
