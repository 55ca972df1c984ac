// Istio's string match for authorization values, compiled once per snapshot:
// `abc` exact, `abc*` prefix, `*abc` suffix, `*` presence (any non-empty
// value). An absent value (no peer certificate, no such header) never matches.

export type ValueTest = (value: string | undefined) => boolean;

export function compileValuePattern(pattern: string, ignoreCase = false): ValueTest {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const norm = ignoreCase ? (v: string): string => v.toLowerCase() : (v: string): string => v;
  if (p === '*') return (v) => v !== undefined && v !== '';
  if (p.length > 1 && p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (v) => v !== undefined && norm(v).startsWith(prefix);
  }
  if (p.length > 1 && p.startsWith('*')) {
    const suffix = p.slice(1);
    return (v) => v !== undefined && norm(v).endsWith(suffix);
  }
  return (v) => v !== undefined && norm(v) === p;
}

/** True when any pattern of the list matches (an OR); compiled once. */
export function compileAnyOf(patterns: readonly string[], ignoreCase = false): ValueTest {
  const tests = patterns.map((p) => compileValuePattern(p, ignoreCase));
  if (tests.length === 1) return tests[0]!;
  return (v) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(v)) return true;
    return false;
  };
}
