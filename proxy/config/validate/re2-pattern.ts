// Every regex in config is RE2 (what Istio and Envoy use): linear-time
// matching, no backtracking, so no pattern can freeze the event loop. re2js is
// a pure-JS port of RE2 (Go's regexp) and needs no native build. Patterns are
// compiled here once, at validation and snapshot build, never per request.

import { re2js, type RE2JS } from './re2js-lazy.js';

/**
 * Envoy's `max_program_size` default: a pattern whose compiled program is
 * larger is refused. re2js reports the instruction count of its compiled
 * program (Go's regexp/syntax.Prog), which is the same measure C++ RE2 calls
 * program size up to small constant differences in how instructions are
 * counted; a given pattern can land a few instructions apart.
 */
export const DEFAULT_MAX_REGEX_PROGRAM_SIZE = 100;

export type Re2Compiled = { readonly ok: true; readonly re: RE2JS } | { readonly ok: false; readonly reason: string };

const LOOKAROUND = /\(\?<?[=!]/;
const BACKREF = /\\[1-9]|\\k</;

/** Compiles an RE2 pattern, explaining the JavaScript-only constructs RE2 refuses. */
export function compileRe2(pattern: string, ignoreCase = false): Re2Compiled {
  try {
    const RE2 = re2js();
    return { ok: true, re: RE2.compile(pattern, ignoreCase ? RE2.CASE_INSENSITIVE : 0) };
  } catch (err) {
    if (LOOKAROUND.test(pattern)) return { ok: false, reason: 'lookahead/lookbehind is not RE2 syntax (Istio regexes are RE2)' };
    if (BACKREF.test(pattern)) return { ok: false, reason: 'backreferences are not RE2 syntax (Istio regexes are RE2)' };
    return { ok: false, reason: `not a valid RE2 regex: ${(err as Error).message}` };
  }
}

/** Undefined when the pattern is valid RE2 within the program-size limit, else the reason. */
export function checkRe2(pattern: string, maxProgramSize: number = currentRegexLimits().maxProgramSize): string | undefined {
  const c = compileRe2(pattern);
  if (!c.ok) return c.reason;
  const size = c.re.programSize();
  if (size > maxProgramSize) {
    return `regex program size ${size} exceeds the limit ${maxProgramSize} (--max-regex-program-size, like Envoy's max_program_size)`;
  }
  return undefined;
}

export interface RegexLimits {
  readonly maxProgramSize: number;
}

let limits: RegexLimits = { maxProgramSize: DEFAULT_MAX_REGEX_PROGRAM_SIZE };

/** Process-wide limit, set once from the command line (proxy and control plane). */
export function setRegexLimits(next: RegexLimits): void {
  limits = next;
}

export function currentRegexLimits(): RegexLimits {
  return limits;
}
