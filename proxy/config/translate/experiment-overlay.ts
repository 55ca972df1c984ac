// Experiment overlays: a VirtualService annotated `meshlet.io/experiment: NAME`
// does not own its host (Meshlet refuses two VirtualServices for one host);
// it lays a fault over the host's existing routes, so the routes' own
// retries, timeouts and splits stay exactly as the owner wrote them. This is
// what `meshlet experiment run` writes (file or control plane). An overlay
// must carry an absolute expiry: an experiment that could outlive its runner
// forever is refused. Once expired it is dropped at translation, so expiry
// changes the config's content version like any other edit. The overlay's own
// `route` (required by the VirtualService schema) is ignored; its `retries`
// and `timeout`, when given, replace the routes' own for the experiment's
// duration (the resilience policy under test, for `meshlet experiment compare`).
// An experiment whose policy is DestinationRule-level only (a rule overlay,
// experiment-rule-overlay.ts) still has a VirtualService overlay, with
// neither: its route marker is what carries the expiry to the sidecar.

import type { ConfigIssue, FaultPolicy, RetryPolicy, RouteMatch, RouteModel, StringMatch, VirtualHostModel } from '../model/index.js';
import { parseDuration, type IstioVirtualService } from '../istio/index.js';
import { normaliseHost } from './host-name.js';
import { issueFor } from './issue-for.js';
import { toFaultPolicy, toRetryPolicy } from './route-policies.js';
import { toRouteMatch } from './route-match.js';

export const ANNOTATION_EXPERIMENT = 'meshlet.io/experiment';
export const ANNOTATION_EXPERIMENT_EXPIRES_AT = 'meshlet.io/experiment-expires-at';
export const ANNOTATION_FAULT_PLACEMENT = 'meshlet.io/fault-placement';
export const ANNOTATION_FAULT_LABELS = 'meshlet.io/fault-labels';
/** A DestinationRule subset of the host: its labels join fault-labels (server placement). */
export const ANNOTATION_FAULT_SUBSET = 'meshlet.io/fault-subset';

export type SubsetLabels = (host: string, subset: string) => Readonly<Record<string, string>> | undefined;

export function isExperimentOverlay(vs: IstioVirtualService): boolean {
  return vs.metadata.annotations[ANNOTATION_EXPERIMENT] !== undefined;
}

interface Overlay {
  readonly vs: IstioVirtualService;
  readonly host: string;
  readonly match: readonly RouteMatch[];
  readonly fault: FaultPolicy | undefined;
  readonly name: string;
  readonly retries: RetryPolicy | undefined;
  readonly timeoutMs: number | undefined;
  readonly expiresAt: number;
}

const ann = (key: string): string => `metadata.annotations[${JSON.stringify(key)}]`;

function readOverlay(vs: IstioVirtualService, now: number, subsetLabels: SubsetLabels, withRule: boolean, report: (path: string, reason: string) => void): Overlay | undefined {
  const a = vs.metadata.annotations;
  const name = a[ANNOTATION_EXPERIMENT] ?? '';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) report(ann(ANNOTATION_EXPERIMENT), `must be a DNS-label-like experiment name, got "${name}"`);
  const expiresText = a[ANNOTATION_EXPERIMENT_EXPIRES_AT];
  const expiresAt = expiresText !== undefined ? Date.parse(expiresText) : NaN;
  if (!Number.isFinite(expiresAt)) {
    report(ann(ANNOTATION_EXPERIMENT_EXPIRES_AT), `an experiment overlay needs an absolute expiry (RFC 3339), got "${expiresText ?? ''}"`);
    return undefined;
  }
  if (vs.spec.hosts.length !== 1) report('spec.hosts', `an experiment overlay targets exactly one host, got ${vs.spec.hosts.length}`);
  const http = vs.spec.http ?? [];
  const h = http[0];
  if (http.length !== 1 || h === undefined || (h.fault === undefined && h.retries === undefined && h.timeout === undefined && !withRule)) {
    report('spec.http', 'an experiment overlay has exactly one http entry, with a fault and/or retries/timeout (and optionally a match), unless a DestinationRule overlay of the same experiment carries its policy');
    return undefined;
  }
  const placement = a[ANNOTATION_FAULT_PLACEMENT] ?? 'client';
  if (placement !== 'client' && placement !== 'server') report(ann(ANNOTATION_FAULT_PLACEMENT), `must be "client" or "server", got "${placement}"`);
  const labels: Record<string, string> = {};
  for (const part of (a[ANNOTATION_FAULT_LABELS] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) report(ann(ANNOTATION_FAULT_LABELS), `expected k=v,... got "${part}"`);
    else labels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const subset = a[ANNOTATION_FAULT_SUBSET];
  if (subset !== undefined) {
    const host = normaliseHost(vs.spec.hosts[0] ?? '', vs.metadata.namespace);
    const sl = subsetLabels(host, subset);
    if (sl === undefined) report(ann(ANNOTATION_FAULT_SUBSET), `subset "${subset}" is not defined by a DestinationRule for ${host}`);
    else Object.assign(labels, sl);
  }
  if (Object.keys(labels).length > 0 && placement !== 'server') report(ann(ANNOTATION_FAULT_LABELS), 'pod labels and subsets only narrow a server-placed fault (a client-side fault cannot tell pods apart)');
  if (expiresAt <= now) return undefined; // expired: the overlay is gone
  const base = toFaultPolicy(h.fault, { shadowSuffix: true, faultHeaderControl: false });
  const fault: FaultPolicy | undefined = base && {
    ...base,
    expiresAt,
    experiment: name,
    ...(placement === 'server' ? { placement: 'server' as const, ...(Object.keys(labels).length > 0 ? { serverLabels: labels } : {}) } : {}),
  };
  const retries = h.retries !== undefined ? toRetryPolicy(h.retries, 'spec.http[0].retries', report) : undefined;
  const timeoutMs = h.timeout !== undefined ? parseDuration(h.timeout) : undefined;
  return { vs, name, host: normaliseHost(vs.spec.hosts[0] ?? '', vs.metadata.namespace), match: (h.match ?? []).map(toRouteMatch).filter((m): m is RouteMatch => m !== null), fault, retries, timeoutMs, expiresAt };
}

/** AND of two match blocks, or a reason why one block cannot express it. */
function andMatch(a: RouteMatch, b: RouteMatch): RouteMatch | string {
  const out: Record<string, unknown> = { ...a };
  for (const k of ['uri', 'authority', 'method', 'port'] as const) {
    const bv = b[k];
    if (bv === undefined) continue;
    const av = a[k];
    if (av !== undefined && JSON.stringify(av) !== JSON.stringify(bv)) return `both the route and the experiment match on ${k}`;
    out[k] = bv;
  }
  for (const k of ['headers', 'withoutHeaders', 'queryParams'] as const) {
    const bv = b[k] as Readonly<Record<string, StringMatch | { readonly kind: 'present' }>> | undefined;
    if (bv === undefined) continue;
    const merged: Record<string, unknown> = { ...(a[k] ?? {}) };
    for (const [name, m] of Object.entries(bv)) {
      if (merged[name] !== undefined && JSON.stringify(merged[name]) !== JSON.stringify(m)) return `both the route and the experiment match on ${k}.${name}`;
      merged[name] = m;
    }
    out[k] = merged;
  }
  if (b.ignoreUriCase === true) out['ignoreUriCase'] = true;
  return out as RouteMatch;
}

/**
 * Applies every live overlay to the virtual hosts (in place in the array).
 * Unnarrowed: each forwarding route of the host carries the fault (replacing
 * a fault it had). Narrowed by a match: a copy of each route, matching both,
 * goes right before it with the fault.
 */
export function applyOverlays(
  virtualHosts: VirtualHostModel[],
  overlays: readonly IstioVirtualService[],
  now: number,
  subsetLabels: SubsetLabels,
  issues: ConfigIssue[],
  /** Experiments that also have a DestinationRule overlay. */
  ruleExperiments: ReadonlySet<string> = new Set(),
): void {
  const seen = new Map<string, string>();
  for (const vs of overlays) {
    const report = (path: string, reason: string): void => void issues.push(issueFor(vs, path, reason));
    const o = readOverlay(vs, now, subsetLabels, ruleExperiments.has(vs.metadata.annotations[ANNOTATION_EXPERIMENT] ?? ''), report);
    if (o === undefined) continue;
    const other = seen.get(o.host);
    if (other !== undefined) {
      report('spec.hosts[0]', `host ${o.host} already has experiment ${other} running`);
      continue;
    }
    seen.set(o.host, o.name);
    // A policy-only overlay still marks the routes (an empty fault: no layer is
    // compiled for it) so its expiry is tracked like a fault's.
    const marker: FaultPolicy = { expiresAt: o.expiresAt, experiment: o.name };
    const lay = (r: RouteModel): RouteModel => ({
      ...r,
      fault: o.fault ?? r.fault ?? marker,
      ...(o.retries ? { retries: o.retries } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    });
    const i = virtualHosts.findIndex((vh) => vh.domains.includes(o.host));
    if (i < 0) {
      report('spec.hosts[0]', `host "${vs.spec.hosts[0] ?? ''}" (${o.host}) is not declared by any ServiceEntry`);
      continue;
    }
    const vh = virtualHosts[i]!;
    const routes: RouteModel[] = [];
    for (const r of vh.routes) {
      if (r.action.kind !== 'forward') {
        routes.push(r);
        continue;
      }
      if (o.match.length === 0) {
        routes.push(lay(r));
        continue;
      }
      const blocks: RouteMatch[] = [];
      for (const a of r.match.length > 0 ? r.match : [{}]) {
        for (const b of o.match) {
          const m = andMatch(a, b);
          if (typeof m === 'string') report('spec.http[0].match', `cannot narrow route ${r.name}: ${m}`);
          else blocks.push(m);
        }
      }
      routes.push({ ...lay(r), match: blocks }, r);
    }
    virtualHosts[i] = { ...vh, routes };
  }
}
