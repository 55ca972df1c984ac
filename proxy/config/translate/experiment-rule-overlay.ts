// Experiment DestinationRule overlays: a DestinationRule annotated
// `meshlet.io/experiment: NAME` (with the same absolute
// `meshlet.io/experiment-expires-at` as the experiment's VirtualService
// overlay) does not own its host; it lays the resilience settings under test
// — connectionPool (circuit breaking), outlierDetection, retryBudget — over
// the host's own DestinationRule for the experiment's duration. Its
// `trafficPolicy` groups replace the same groups at every level of the host's
// rule (top, each subset, each port-level entry), so the whole host runs
// under the policy under test; `subsets[].trafficPolicy` replaces them for
// that subset only. Other groups (loadBalancer, tls) stay as the owner wrote
// them. Expired overlays drop out at translation, like the VirtualService
// overlay whose route marker makes the sidecar reload at the expiry.

import type { ConfigIssue } from '../model/index.js';
import type { IstioDestinationRule, IstioTrafficPolicy } from '../istio/index.js';
import { normaliseHost } from './host-name.js';
import { issueFor } from './issue-for.js';
import { ANNOTATION_EXPERIMENT, ANNOTATION_EXPERIMENT_EXPIRES_AT } from './experiment-overlay.js';

type Groups = Pick<IstioTrafficPolicy, 'connectionPool' | 'outlierDetection' | 'retryBudget'>;
const GROUPS = ['connectionPool', 'outlierDetection', 'retryBudget'] as const;

export function isExperimentRule(dr: IstioDestinationRule): boolean {
  return dr.metadata.annotations[ANNOTATION_EXPERIMENT] !== undefined;
}

/** The groups an overlay sets; anything else in its trafficPolicy is reported. */
function groupsOf(tp: IstioTrafficPolicy | undefined, path: string, report: (path: string, reason: string) => void): Groups {
  const out: { -readonly [K in keyof Groups]: Groups[K] } = {};
  for (const [k, v] of Object.entries(tp ?? {})) {
    if (v === undefined) continue;
    if ((GROUPS as readonly string[]).includes(k)) Object.assign(out, { [k]: v });
    else report(`${path}.${k}`, `an experiment overlay may set ${GROUPS.join(', ')} only`);
  }
  return out;
}

/** `tp` with the overlay's groups in place, port-level entries included (they have no retryBudget). */
function lay(tp: IstioTrafficPolicy | undefined, g: Groups): IstioTrafficPolicy {
  const { retryBudget: _budget, ...perPort } = g;
  return {
    ...(tp ?? {}),
    ...g,
    ...(tp?.portLevelSettings ? { portLevelSettings: tp.portLevelSettings.map((p) => ({ ...p, ...perPort })) } : {}),
  };
}

/**
 * Replaces, in `ruleByHost`, each overlaid host's rule by the owner's rule
 * (or an empty one) with the live overlays' settings laid over it.
 */
export function applyRuleOverlays(
  ruleByHost: Map<string, IstioDestinationRule>,
  overlays: readonly IstioDestinationRule[],
  declared: ReadonlySet<string>,
  now: number,
  issues: ConfigIssue[],
  /** Experiments with a VirtualService overlay: its route marker is what makes a sidecar reload at the expiry. */
  routeExperiments: ReadonlySet<string>,
): void {
  const seen = new Map<string, string>();
  for (const dr of overlays) {
    const report = (path: string, reason: string): void => void issues.push(issueFor(dr, path, reason));
    const a = dr.metadata.annotations;
    const name = a[ANNOTATION_EXPERIMENT] ?? '';
    const expiresAt = Date.parse(a[ANNOTATION_EXPERIMENT_EXPIRES_AT] ?? '');
    if (!Number.isFinite(expiresAt)) {
      report(`metadata.annotations["${ANNOTATION_EXPERIMENT_EXPIRES_AT}"]`, 'an experiment overlay needs an absolute expiry (RFC 3339)');
      continue;
    }
    if (!routeExperiments.has(name)) report(`metadata.annotations["${ANNOTATION_EXPERIMENT}"]`, `experiment "${name}" has no VirtualService overlay for the host (it carries the expiry to the sidecars)`);
    const host = normaliseHost(dr.spec.host, dr.metadata.namespace);
    if (!declared.has(host)) {
      report('spec.host', `host "${dr.spec.host}" (${host}) is not declared by any ServiceEntry`);
      continue;
    }
    const top = groupsOf(dr.spec.trafficPolicy, 'spec.trafficPolicy', report);
    const owner = ruleByHost.get(host);
    const subsets = (dr.spec.subsets ?? []).map((s, i) => {
      if (s.labels !== undefined) report(`spec.subsets[${i}].labels`, 'an experiment overlay names a subset of the host\'s own DestinationRule; it cannot define one');
      if (!owner?.spec.subsets?.some((o) => o.name === s.name)) report(`spec.subsets[${i}].name`, `subset "${s.name}" is not defined by a DestinationRule for ${host}`);
      return { name: s.name, groups: groupsOf(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`, report) };
    });
    if (expiresAt <= now) continue; // expired: the overlay is gone
    const other = seen.get(host);
    if (other !== undefined) {
      report('spec.host', `host ${host} already has experiment ${other} running`);
      continue;
    }
    seen.set(host, name);
    const base: IstioDestinationRule = owner ?? { ...dr, metadata: { ...dr.metadata, annotations: {} }, spec: { host: dr.spec.host } };
    const hasTop = Object.keys(top).length > 0;
    ruleByHost.set(host, {
      ...base,
      spec: {
        ...base.spec,
        ...(hasTop || base.spec.trafficPolicy ? { trafficPolicy: hasTop ? lay(base.spec.trafficPolicy, top) : base.spec.trafficPolicy } : {}),
        ...(base.spec.subsets
          ? {
              subsets: base.spec.subsets.map((s) => {
                const own = subsets.find((o) => o.name === s.name)?.groups ?? {};
                const g = { ...top, ...own };
                return Object.keys(g).length > 0 ? { ...s, trafficPolicy: lay(s.trafficPolicy, g) } : s;
              }),
            }
          : {}),
      },
    });
  }
}
