// Experiment overlays: a VirtualService annotated `meshlet.io/experiment: NAME`
// does not own its host (Meshlet refuses two VirtualServices for one host);
// it lays a fault over the host's existing routes, so the routes' own
// retries, timeouts and splits stay exactly as the owner wrote them. This is
// what `meshlet experiment run` writes (file or control plane). An overlay
// must carry an absolute expiry: an experiment that could outlive its runner
// forever is refused. Once expired it is dropped at translation, so expiry
// changes the config's content version like any other edit. The overlay's own
// `route` (required by the VirtualService schema) is ignored.

import type { ConfigIssue, FaultPolicy, RouteMatch, RouteModel, StringMatch, VirtualHostModel } from '../model/index.js';
import type { IstioVirtualService } from '../istio/index.js';
import { normaliseHost } from './host-name.js';
import { issueFor } from './issue-for.js';
import { toFaultPolicy } from './route-policies.js';
import { toRouteMatch } from './route-match.js';

export const ANNOTATION_EXPERIMENT = 'meshlet.io/experiment';
export const ANNOTATION_EXPERIMENT_EXPIRES_AT = 'meshlet.io/experiment-expires-at';
export const ANNOTATION_FAULT_PLACEMENT = 'meshlet.io/fault-placement';
export const ANNOTATION_FAULT_LABELS = 'meshlet.io/fault-labels';

export function isExperimentOverlay(vs: IstioVirtualService): boolean {
  return vs.metadata.annotations[ANNOTATION_EXPERIMENT] !== undefined;
}

interface Overlay {
  readonly vs: IstioVirtualService;
  readonly host: string;
  readonly match: readonly RouteMatch[];
  readonly fault: FaultPolicy;
}

const ann = (key: string): string => `metadata.annotations[${JSON.stringify(key)}]`;

function readOverlay(vs: IstioVirtualService, now: number, report: (path: string, reason: string) => void): Overlay | undefined {
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
  if (http.length !== 1 || http[0]!.fault === undefined) {
    report('spec.http', 'an experiment overlay has exactly one http entry, with a fault (and optionally a match)');
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
  if (Object.keys(labels).length > 0 && placement !== 'server') report(ann(ANNOTATION_FAULT_LABELS), 'pod labels only narrow a server-placed fault (a client-side fault cannot tell pods apart)');
  if (expiresAt <= now) return undefined; // expired: the overlay is gone
  const base = toFaultPolicy(http[0]!.fault, { shadowSuffix: true, faultHeaderControl: false });
  const fault: FaultPolicy = {
    ...base,
    expiresAt,
    experiment: name,
    ...(placement === 'server' ? { placement: 'server' as const, ...(Object.keys(labels).length > 0 ? { serverLabels: labels } : {}) } : {}),
  };
  return { vs, host: normaliseHost(vs.spec.hosts[0] ?? '', vs.metadata.namespace), match: (http[0]!.match ?? []).map(toRouteMatch).filter((m): m is RouteMatch => m !== null), fault };
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
export function applyOverlays(virtualHosts: VirtualHostModel[], overlays: readonly IstioVirtualService[], now: number, issues: ConfigIssue[]): void {
  const seen = new Map<string, string>();
  for (const vs of overlays) {
    const report = (path: string, reason: string): void => void issues.push(issueFor(vs, path, reason));
    const o = readOverlay(vs, now, report);
    if (o === undefined) continue;
    const other = seen.get(o.host);
    if (other !== undefined) {
      report('spec.hosts[0]', `host ${o.host} already has experiment ${other} running`);
      continue;
    }
    seen.set(o.host, o.fault.experiment ?? '');
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
        routes.push({ ...r, fault: o.fault });
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
      routes.push({ ...r, match: blocks, fault: o.fault }, r);
    }
    virtualHosts[i] = { ...vh, routes };
  }
}
