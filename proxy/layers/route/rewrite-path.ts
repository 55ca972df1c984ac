// Istio's `rewrite.uri` and `rewrite.uriRegexRewrite`, compiled once per route.
//
// rewrite.uri is Envoy's prefix_rewrite on the route Istio builds for the
// matched clause: a uri prefix match has that prefix replaced; an exact or
// regex uri match has the whole path replaced; a clause without a uri (and a
// route without any match) is Istio's `prefix: /`, so only the leading `/` is
// replaced (`rewrite.uri: /v2/` turns `/a` into `/v2/a`).
//
// uriRegexRewrite is Envoy's regex_rewrite: every non-overlapping match of
// the RE2 pattern in the path is replaced; `\1`..`\9` in the substitution
// name capture groups.
import type { RE2JS } from 're2js';
import type { RouteModel, StringMatch } from '../../config/model/index.js';
import { compileStringMatch, compileRegex, type StringMatcher } from './string-matcher.js';

export interface PathRewrite {
  /** The upstream path for a request path (no query string) that matched the route. */
  rewrite(path: string): string;
}

interface Clause {
  readonly matcher: StringMatcher | null;
  /** Characters of the path the clause's uri match consumed: prefix length, or -1 for the whole path. */
  readonly prefixLength: number;
}

class PrefixRewrite implements PathRewrite {
  constructor(
    private readonly to: string,
    private readonly clauses: readonly Clause[],
  ) {}

  rewrite(path: string): string {
    const clauses = this.clauses;
    for (let i = 0; i < clauses.length; i++) {
      const c = clauses[i]!;
      if (c.matcher === null) return this.to + path.slice(1);
      if (c.matcher.matches(path)) return c.prefixLength < 0 ? this.to : this.to + path.slice(c.prefixLength);
    }
    // No clause with a uri matched (or the route has none): Istio's `prefix: /`.
    return this.to + path.slice(1);
  }
}

class RegexRewrite implements PathRewrite {
  constructor(
    private readonly re: RE2JS,
    private readonly substitution: string,
  ) {}

  rewrite(path: string): string {
    return this.re.matcher(path).replaceAll(this.substitution);
  }
}

/** Envoy's `\1` group references → re2js's `$1`; a literal `$` is doubled. */
function toRe2jsSubstitution(envoy: string): string {
  return envoy.replace(/\$/g, '$$$$').replace(/\\([0-9])/g, '$$$1');
}

function clauseOf(uri: StringMatch | undefined, ignoreCase: boolean): Clause {
  if (uri === undefined) return { matcher: null, prefixLength: 1 };
  return { matcher: compileStringMatch(uri, ignoreCase), prefixLength: uri.kind === 'prefix' ? uri.value.length : -1 };
}

/** null when the route rewrites no path. */
export function compilePathRewrite(route: RouteModel): PathRewrite | null {
  const rw = route.rewrite;
  if (rw?.uriRegex !== undefined) return new RegexRewrite(compileRegex(rw.uriRegex.match), toRe2jsSubstitution(rw.uriRegex.substitution));
  if (rw?.uri === undefined) return null;
  return new PrefixRewrite(rw.uri, route.match.map((m) => clauseOf(m.uri, m.ignoreUriCase === true)));
}
