// The inbound authorization layer: the AuthorizationPolicies that select this
// workload, compiled once per snapshot, evaluated in Istio's order:
//   1. a matching DENY policy denies;
//   2. no ALLOW policy at all allows;
//   3. a matching ALLOW policy allows;
//   4. otherwise deny.
// AUDIT policies never change the outcome; a match is reported (log and
// metric). CUSTOM never gets here: the translation refuses it.
import type { AuthorizationPolicyModel } from '../../config/model/index.js';
import { MESH_ROOT_NAMESPACE } from '../../config/model/index.js';
import { compileRule, type AuthzAttributes, type CompiledRule } from './compile-rule.js';

export interface AuthzScope {
  /** This workload's namespace and labels (what a policy's namespace and selector are matched against). */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The outcome of one check. Preallocated per policy: a check allocates nothing. */
export interface AuthzVerdict {
  readonly allowed: boolean;
  /** The policy that decided (`ns/name`), `` when none matched (allowed with no ALLOW policy, or denied with none matching). */
  readonly policy: string;
  /** Envoy's response_code_details for a denial (access log `detail`). */
  readonly detail: string;
}

interface CompiledPolicy {
  readonly name: string;
  readonly rules: readonly CompiledRule[];
  readonly verdict: AuthzVerdict;
}

const ALLOWED_NO_POLICY: AuthzVerdict = { allowed: true, policy: '', detail: '' };
const DENIED_NO_MATCH: AuthzVerdict = { allowed: false, policy: '', detail: 'rbac_access_denied_matched_policy[none]' };

/** Whether `p` applies to a workload in `scope` (Istio: same namespace or the root namespace, and the selector's labels). */
export function selects(p: AuthorizationPolicyModel, scope: AuthzScope): boolean {
  if (p.namespace !== scope.namespace && p.namespace !== MESH_ROOT_NAMESPACE) return false;
  for (const k in p.selector ?? {}) if (scope.labels[k] !== p.selector![k]) return false;
  return true;
}

export class Authorizer {
  /** Scratch attributes, refilled by the caller before each check (single-threaded, synchronous). */
  readonly attrs: AuthzAttributes = { method: '', path: '', host: '', headers: undefined, port: 0, sourceIp: '', destinationIp: '', peer: undefined, sni: undefined };
  /** Names of the policies enforced here, for /config_dump and logs. */
  readonly policies: readonly string[];
  readonly #deny: readonly CompiledPolicy[];
  readonly #allow: readonly CompiledPolicy[];
  readonly #audit: readonly CompiledPolicy[];
  /** Set by the last check: the AUDIT policy that matched, or ''. */
  audited = '';

  private constructor(selected: readonly AuthorizationPolicyModel[]) {
    const compile = (p: AuthorizationPolicyModel): CompiledPolicy => ({
      name: p.name,
      rules: p.rules.map((r) => compileRule(r, p.action)),
      verdict: { allowed: p.action !== 'DENY', policy: p.name, detail: p.action === 'DENY' ? `rbac_access_denied_matched_policy[${p.name}]` : '' },
    });
    this.#deny = selected.filter((p) => p.action === 'DENY').map(compile);
    this.#allow = selected.filter((p) => p.action === 'ALLOW').map(compile);
    this.#audit = selected.filter((p) => p.action === 'AUDIT').map(compile);
    this.policies = selected.map((p) => `${p.action} ${p.name}`);
  }

  /** The layer for this workload, or null when no policy selects it (the step then costs one comparison). */
  static compile(policies: readonly AuthorizationPolicyModel[] | undefined, scope: AuthzScope): Authorizer | null {
    const selected = (policies ?? []).filter((p) => selects(p, scope));
    return selected.length === 0 ? null : new Authorizer(selected);
  }

  /** Checks the request in `attrs` as HTTP (`http`) or as a TCP connection. */
  check(http: boolean): AuthzVerdict {
    const a = this.attrs;
    this.audited = '';
    for (const p of this.#audit) {
      if (matches(p, a, http)) {
        this.audited = p.name;
        break;
      }
    }
    for (const p of this.#deny) if (matches(p, a, http)) return p.verdict;
    if (this.#allow.length === 0) return ALLOWED_NO_POLICY;
    for (const p of this.#allow) if (matches(p, a, http)) return p.verdict;
    return DENIED_NO_MATCH;
  }
}

function matches(p: CompiledPolicy, a: AuthzAttributes, http: boolean): boolean {
  const rules = p.rules;
  for (let i = 0; i < rules.length; i++) if ((http ? rules[i]!.http : rules[i]!.tcp)(a)) return true;
  return false;
}
