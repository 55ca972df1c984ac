// One 32-bit string hash for every consistent-hash use in the proxy (request
// keys, ring points, maglev permutations). FNV-1a is cheap per character but
// mixes poorly into the high bits; murmur3's finaliser fixes the avalanche so
// ring positions and `hash % tableSize` spread evenly. It hashes UTF-16 code
// units, so it is stable across Meshlet proxies (not compatible with Envoy's
// xxHash, which only matters if both share a key space; they do not).

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit hash of `s[start, end)`; lets callers hash a cookie or query value in place, without `slice`. */
export function hashStringRange(s: string, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Unsigned 32-bit hash of a whole string. */
export function hashString(s: string): number {
  return hashStringRange(s, 0, s.length);
}
