// One VirtualService → one VirtualHostModel. Routes keep their order (first
// match wins). Every destination (route and mirror) is checked against the
// declared services: the host must come from a ServiceEntry, the subset from
// that host's DestinationRule, the port from the ServiceEntry's ports.

import type { MirrorPolicy, RouteAction, RouteMatch, RouteModel, VirtualHostModel, WeightedDestination } from '../model/index.js';
import { parseDuration, resourceRef, type IstioDestination, type IstioHTTPRoute, type IstioVirtualService } from '../istio/index.js';
import { normaliseHost } from './host-name.js';
import type { MeshletAnnotations } from './meshlet-annotations.js';
import { toFaultPolicy, toHeaders, toRetryPolicy, type IssueReporter } from './route-policies.js';
import { toRouteMatch } from './route-match.js';
import type { ServiceInfo } from './services.js';

export interface VirtualHostContext {
  readonly services: ReadonlyMap<string, ServiceInfo>;
  readonly annotations: MeshletAnnotations;
  readonly report: IssueReporter;
  /** Warnings and notes: loaded, but the user should know. */
  readonly warn: (path: string, reason: string, severity: 'warning' | 'info') => void;
  /** The VirtualService's resolved `exportTo` (absent = every namespace). */
  readonly exportTo?: readonly string[];
}

export function toVirtualHost(vs: IstioVirtualService, ctx: VirtualHostContext): VirtualHostModel {
  const ns = vs.metadata.namespace;
  const routes: RouteModel[] = [];
  (vs.spec.http ?? []).forEach((r, i) => {
    const route = toRoute(vs, r, i, ctx);
    if (route !== null) routes.push(route);
  });
  const exportTo = ctx.exportTo;
  return {
    name: `${ns}/${vs.metadata.name}`,
    domains: vs.spec.hosts.map((h) => normaliseHost(h, ns)),
    routes,
    source: resourceRef(vs),
    ...(exportTo !== undefined ? { exportTo } : {}),
  };
}

/** `null` when every match clause is bound to gateways only: the route does not exist on a sidecar. */
function toRoute(vs: IstioVirtualService, r: IstioHTTPRoute, i: number, ctx: VirtualHostContext): RouteModel | null {
  const path = `spec.http[${i}]`;
  const written = r.match ?? [];
  const match = written.map(toRouteMatch).filter((m): m is RouteMatch => m !== null);
  if (written.length > 0 && match.length === 0) {
    ctx.warn(`${path}.match`, 'no match clause applies to sidecars (each is bound to gateways without `mesh`, or matches a scheme other than http): the route is left out', 'info');
    return null;
  }
  const action = toAction(vs, r, path, ctx);
  const headers = toHeaders(r.headers);
  const timeoutMs = r.timeout !== undefined ? parseDuration(r.timeout) : undefined;
  const fault = toFaultPolicy(r.fault, ctx.annotations, `${path}.fault`, ctx.warn);
  const mirrors = toMirrors(vs, r, path, ctx);
  const rw = r.rewrite;
  const rewrite = rw && (rw.uri !== undefined || rw.authority !== undefined || rw.uriRegexRewrite !== undefined)
    ? {
        ...(rw.uri !== undefined ? { uri: rw.uri } : {}),
        ...(rw.authority !== undefined ? { authority: rw.authority } : {}),
        ...(rw.uriRegexRewrite !== undefined ? { uriRegex: { match: rw.uriRegexRewrite.match, substitution: rw.uriRegexRewrite.rewrite } } : {}),
      }
    : undefined;
  return {
    name: r.name ?? `${vs.metadata.name}.${i}`,
    match,
    action,
    ...(headers ? { headers } : {}),
    ...(rewrite ? { rewrite } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    // Retries only make sense when something is forwarded upstream.
    ...(action.kind === 'forward' ? { retries: toRetryPolicy(r.retries, `${path}.retries`, ctx.report) } : {}),
    ...(fault ? { fault } : {}),
    ...(mirrors.length > 0 ? { mirrors } : {}),
    ...(ctx.annotations.upgrades !== undefined && action.kind === 'forward' ? { upgrades: ctx.annotations.upgrades } : {}),
  };
}

function toAction(vs: IstioVirtualService, r: IstioHTTPRoute, path: string, ctx: VirtualHostContext): RouteAction {
  if (r.redirect) {
    const d = r.redirect;
    return {
      kind: 'redirect',
      ...(d.uri !== undefined ? { uri: d.uri } : {}),
      ...(d.authority !== undefined ? { authority: d.authority } : {}),
      ...(d.scheme !== undefined ? { scheme: d.scheme } : {}),
      ...(d.port !== undefined ? { port: d.port } : {}),
      status: d.redirectCode ?? 301,
    };
  }
  if (r.directResponse) {
    const body = r.directResponse.body;
    const text = body?.string ?? (body?.bytes !== undefined ? Buffer.from(body.bytes, 'base64').toString('utf8') : undefined);
    return { kind: 'direct', status: r.directResponse.status, ...(text !== undefined ? { body: text } : {}) };
  }
  const route = r.route ?? [];
  const single = route.length === 1;
  const destinations = route.map((rd, j): WeightedDestination => {
    const target = resolveDestination(vs, rd.destination, `${path}.route[${j}].destination`, ctx);
    const headers = toHeaders(rd.headers);
    return { ...target, weight: rd.weight ?? (single ? 100 : 0), ...(headers ? { headers } : {}) };
  });
  return { kind: 'forward', destinations };
}

function toMirrors(vs: IstioVirtualService, r: IstioHTTPRoute, path: string, ctx: VirtualHostContext): MirrorPolicy[] {
  const out: MirrorPolicy[] = [];
  const { shadowSuffix, expiresAt } = ctx.annotations;
  const push = (dest: IstioDestination, percent: number, at: string): void => {
    const target = resolveDestination(vs, dest, at, ctx);
    out.push({ ...target, percent, shadowSuffix, ...(expiresAt !== undefined ? { expiresAt } : {}) });
  };
  if (r.mirror) push(r.mirror, r.mirrorPercentage?.value ?? r.mirrorPercent ?? 100, `${path}.mirror`);
  (r.mirrors ?? []).forEach((m, j) => push(m.destination, m.percentage?.value ?? 100, `${path}.mirrors[${j}].destination`));
  return out;
}

interface Target {
  host: string;
  subset?: string;
  port?: number;
}

function resolveDestination(vs: IstioVirtualService, dest: IstioDestination, path: string, ctx: VirtualHostContext): Target {
  const host = normaliseHost(dest.host, vs.metadata.namespace);
  const info = ctx.services.get(host);
  const explicitPort = dest.port?.number;
  if (info === undefined) {
    ctx.report(`${path}.host`, `host "${dest.host}" (${host}) is not declared by any ServiceEntry`);
  } else {
    if (dest.subset !== undefined && !info.subsets.has(dest.subset)) {
      ctx.report(`${path}.subset`, `subset "${dest.subset}" is not defined by a DestinationRule for host ${host}`);
    }
    if (explicitPort !== undefined && !info.ports.includes(explicitPort)) {
      ctx.report(`${path}.port.number`, `port ${explicitPort} is not a port of ${host} (${info.ports.join(', ')})`);
    }
  }
  // Without an explicit port a single-port service is unambiguous; for a
  // multi-port service the port is left out and resolved per request port.
  const port = explicitPort ?? (info !== undefined && info.ports.length === 1 ? info.ports[0] : undefined);
  return { host, ...(dest.subset !== undefined ? { subset: dest.subset } : {}), ...(port !== undefined ? { port } : {}) };
}
