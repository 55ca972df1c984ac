// Istio's `pathNormalization` (MeshConfig.ProxyPathNormalization), applied once
// at request entry so that route matching and the upstream request see the
// same path, and a policy on `/admin` cannot be walked around with `/%61dmin`,
// `/x/../admin` or `/./admin`:
//   NONE                      the path as received;
//   BASE (default)            RFC 3986 normalisation, what Envoy's
//                             `normalize_path` does: percent-escapes of
//                             unreserved characters decoded (`%61` → `a`),
//                             other escapes upper-cased (`%2f` → `%2F`),
//                             `.` and `..` segments resolved (never above `/`);
//   MERGE_SLASHES             BASE, then runs of `/` merged into one;
//   DECODE_AND_MERGE_SLASHES  `%2F`/`%5C` decoded to `/` and `\` first (any
//                             case), then MERGE_SLASHES.
// A path without `%`, `/.` or (when merging) `//` is returned as is, with no
// allocation: the common case costs a few indexOf calls.

export const PATH_NORMALIZATIONS = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const;
export type PathNormalization = (typeof PATH_NORMALIZATIONS)[number];

export function isPathNormalization(s: string): s is PathNormalization {
  return (PATH_NORMALIZATIONS as readonly string[]).includes(s);
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~" */
function unreserved(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126;
}

const HEX = '0123456789ABCDEF';

function decodeEscapes(path: string, slashes: boolean): string {
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
    if (i + 2 >= path.length) break;
    const hi = hex(path.charCodeAt(i + 1));
    const lo = hex(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) continue; // not an escape: kept as sent
    const c = hi * 16 + lo;
    const decoded = unreserved(c) || (slashes && (c === 47 || c === 92));
    out += path.slice(from, i) + (decoded ? String.fromCharCode(c) : '%' + HEX[hi]! + HEX[lo]!);
    from = i + 3;
    i += 2;
  }
  return from === 0 ? path : out + path.slice(from);
}

/** RFC 3986 §5.2.4 remove_dot_segments, for an absolute path. */
function removeDotSegments(path: string): string {
  const segs = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    const last = i === segs.length - 1;
    if (s === '.') {
      if (last) out.push('');
    } else if (s === '..') {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(s);
    }
  }
  return '/' + out.join('/');
}

function needsWork(path: string, mode: PathNormalization): boolean {
  if (path.indexOf('%') >= 0 || path.indexOf('/.') >= 0) return true;
  return mode !== 'BASE' && path.indexOf('//') >= 0;
}

/** The normalized form of an absolute path (no query string). */
export function normalizePath(path: string, mode: PathNormalization): string {
  if (mode === 'NONE' || !needsWork(path, mode)) return path;
  let p = decodeEscapes(path, mode === 'DECODE_AND_MERGE_SLASHES');
  p = removeDotSegments(p);
  if (mode !== 'BASE') p = p.replace(/\/{2,}/g, '/');
  return p;
}

let current: PathNormalization = 'BASE';

/** Process-wide mode, set once from `--path-normalization` (proxy command). */
export function setPathNormalization(mode: PathNormalization): void {
  current = mode;
}

interface PathSink {
  path: string;
  readonly ex: { path: string };
}

/**
 * The request-entry call: replaces the parsed path (and the path the access
 * log shows) with its normalized form. Returns false for a path that cannot
 * be normalized (not absolute), which the caller answers with 400.
 */
export function normalizeTargetPath(s: PathSink): boolean {
  const path = s.path;
  if (path.charCodeAt(0) !== 47 /* '/' */) return path === '*';
  const n = normalizePath(path, current);
  if (n !== path) {
    s.path = n;
    s.ex.path = n;
  }
  return true;
}
