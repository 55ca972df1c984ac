import type { RE2JS } from 're2js';
import type { StringMatch } from '../../config/model/index.js';
import { compileRe2 } from '../../config/validate/re2-pattern.js';

/** A compiled string predicate; `matches` allocates nothing. */
export interface StringMatcher {
  matches(value: string): boolean;
}

/** What a header/without-header entry may say: a StringMatch, or just "present". */
export type StringMatchSpec = StringMatch | { readonly kind: 'present' };

class ExactMatcher implements StringMatcher {
  constructor(private readonly expected: string) {}
  matches(value: string): boolean {
    return value === this.expected;
  }
}

class PrefixMatcher implements StringMatcher {
  constructor(private readonly prefix: string) {}
  matches(value: string): boolean {
    return value.startsWith(this.prefix);
  }
}

/** ASCII case folding only (what `ignoreUriCase` means for paths); no lower-cased copy per request. */
class FoldedMatcher implements StringMatcher {
  private readonly expected: string;
  constructor(expected: string, private readonly prefixOnly: boolean) {
    this.expected = expected.toLowerCase();
  }
  matches(value: string): boolean {
    const e = this.expected;
    if (this.prefixOnly ? value.length < e.length : value.length !== e.length) return false;
    for (let i = 0; i < e.length; i++) {
      let c = value.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== e.charCodeAt(i)) return false;
    }
    return true;
  }
}

/** RE2 full match (linear time: no input can make it backtrack). */
class RegexMatcher implements StringMatcher {
  constructor(private readonly re: RE2JS) {}
  matches(value: string): boolean {
    return this.re.testExact(value);
  }
}

class PresentMatcher implements StringMatcher {
  matches(): boolean {
    return true;
  }
}

const PRESENT = new PresentMatcher();

/**
 * Compile a match once, at snapshot build. Regexes are RE2 with full-match
 * semantics like Istio's; `ignoreCase` folds exact/prefix and makes regexes
 * case-insensitive. Throws SyntaxError for a pattern RE2 refuses, so bad
 * config is rejected at build time, never per request (validation has
 * already refused it with file and path in every normal flow).
 */
export function compileStringMatch(m: StringMatchSpec, ignoreCase = false): StringMatcher {
  switch (m.kind) {
    case 'exact':
      return ignoreCase ? new FoldedMatcher(m.value, false) : new ExactMatcher(m.value);
    case 'prefix':
      return ignoreCase ? new FoldedMatcher(m.value, true) : new PrefixMatcher(m.value);
    case 'regex':
      return new RegexMatcher(compileRegex(m.value, ignoreCase));
    case 'present':
      return PRESENT;
  }
}

/** RE2 pattern → compiled matcher; SyntaxError with RE2's reason when it is not RE2. */
export function compileRegex(source: string, ignoreCase = false): RE2JS {
  const c = compileRe2(source, ignoreCase);
  if (!c.ok) throw new SyntaxError(c.reason);
  return c.re;
}
