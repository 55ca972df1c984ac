import type { StringMatch } from '../../config/model/index.js';

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

class RegexMatcher implements StringMatcher {
  constructor(private readonly re: RegExp) {}
  matches(value: string): boolean {
    return this.re.test(value);
  }
}

class PresentMatcher implements StringMatcher {
  matches(): boolean {
    return true;
  }
}

const PRESENT = new PresentMatcher();

/**
 * Compile a match once, at snapshot build. Regexes are full matches like
 * Istio's RE2 (`^(?:...)$`); `ignoreCase` folds exact/prefix and adds the `i`
 * flag to regexes. Throws SyntaxError for a regex JS cannot compile, so bad
 * config is rejected at build time, never per request.
 */
export function compileStringMatch(m: StringMatchSpec, ignoreCase = false): StringMatcher {
  switch (m.kind) {
    case 'exact':
      return ignoreCase ? new FoldedMatcher(m.value, false) : new ExactMatcher(m.value);
    case 'prefix':
      return ignoreCase ? new FoldedMatcher(m.value, true) : new PrefixMatcher(m.value);
    case 'regex':
      return new RegexMatcher(compileFullMatchRegex(m.value, ignoreCase));
    case 'present':
      return PRESENT;
  }
}

/**
 * RE2 → JS, for the constructs that differ and are common in Istio configs:
 * leading inline flags `(?i)`, `(?s)`, `(?m)` become JS flags and `(?P<name>`
 * becomes `(?<name>`. Everything else is passed through; JS regexes backtrack,
 * so a pathological pattern can be slow (no RE2 package is installed; the
 * lead may add re2 later).
 */
export function compileFullMatchRegex(source: string, ignoreCase = false): RegExp {
  let flags = ignoreCase ? 'i' : '';
  let body = source;
  const lead = /^\(\?([ims]+)\)/.exec(body);
  if (lead !== null) {
    for (const f of lead[1]!) if (!flags.includes(f)) flags += f;
    body = body.slice(lead[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<');
  return new RegExp(`^(?:${body})$`, flags);
}
