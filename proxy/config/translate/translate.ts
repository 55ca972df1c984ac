// The only bridge from Istio objects to the Meshlet model. Runs every check
// and collects every issue; a config is produced only when there are none
// (apply nothing unless everything passes).

import type { ConfigIssue, MeshConfig, OutboundTrafficPolicy, TlsRouteModel, VirtualHostModel } from '../model/index.js';
import {
  resourceRef,
  type IstioAuthorizationPolicy,
  type IstioDestinationRule,
  type IstioPeerAuthentication,
  type IstioResource,
  type IstioServiceEntry,
  type IstioSidecar,
  type IstioVirtualService,
} from '../istio/index.js';
import { toAuthorizationPolicies } from './authorization-policies.js';
import { contentVersion } from './config-version.js';
import { normaliseHost } from './host-name.js';
import { issueFor } from './issue-for.js';
import { ANNOTATION_EXPERIMENT, applyOverlays, isExperimentOverlay } from './experiment-overlay.js';
import { applyRuleOverlays, isExperimentRule } from './experiment-rule-overlay.js';
import { readAnnotations } from './meshlet-annotations.js';
import { SAFE_DEFAULT_RETRIES } from './route-policies.js';
import { MESH_GATEWAY } from './route-match.js';
import { buildServices, type DeclaredHost } from './services.js';
import { toPeerAuthentications } from './peer-authentication.js';
import { toTlsRoutes } from './tls-routes.js';
import { toVirtualHost } from './virtual-host.js';
import { resolveExportTo } from './export-to.js';

/** `warnings`: accepted-not-applied fields and notes; never a reason to refuse. */
export type TranslateResult =
  | { ok: true; config: MeshConfig; warnings?: ConfigIssue[] }
  | { ok: false; issues: ConfigIssue[]; warnings?: ConfigIssue[] };

/**
 * @param now clock for `meshlet.io/experiment-ttl` expiries (ms since epoch);
 *   injected so tests and the control plane control it.
 */
export function translate(resources: readonly IstioResource[], now: number = Date.now()): TranslateResult {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const unique = dropDuplicates(resources, issues);
  const entries = unique.filter((r): r is IstioServiceEntry => r.kind === 'ServiceEntry');
  const allRules = unique.filter((r): r is IstioDestinationRule => r.kind === 'DestinationRule');
  const rules = allRules.filter((dr) => !isExperimentRule(dr));
  const ruleOverlays = allRules.filter(isExperimentRule);
  const allVirtualServices = unique.filter((r): r is IstioVirtualService => r.kind === 'VirtualService');
  const virtualServices = allVirtualServices.filter((vs) => !isExperimentOverlay(vs));
  const sidecars = unique.filter((r): r is IstioSidecar => r.kind === 'Sidecar');

  const declared = declareHosts(entries, issues);
  const declaredSet = new Set(declared.map((d) => d.host));
  const ruleByHost = new Map<string, IstioDestinationRule>();
  for (const dr of rules) {
    const host = normaliseHost(dr.spec.host, dr.metadata.namespace);
    const other = ruleByHost.get(host);
    if (!declaredSet.has(host)) issues.push(issueFor(dr, 'spec.host', `host "${dr.spec.host}" (${host}) is not declared by any ServiceEntry`));
    else if (other) issues.push(issueFor(dr, 'spec.host', `host ${host} already has ${resourceRef(other)}`));
    else ruleByHost.set(host, dr);
  }
  const routeExperiments = new Set(allVirtualServices.filter(isExperimentOverlay).map((vs) => vs.metadata.annotations[ANNOTATION_EXPERIMENT] ?? ''));
  applyRuleOverlays(ruleByHost, ruleOverlays, declaredSet, now, issues, routeExperiments);
  const { services, clusters, index } = buildServices(declared, ruleByHost, issues);

  const virtualHosts: VirtualHostModel[] = [];
  const tlsRoutes: TlsRouteModel[] = [];
  const routedBy = new Map<string, string>();
  for (const vs of virtualServices) {
    // Istio: a VirtualService with `gateways` that do not include `mesh` is for gateways only.
    const gateways = vs.spec.gateways ?? [];
    if (gateways.length > 0 && !gateways.includes(MESH_GATEWAY)) {
      warnings.push({ ...issueFor(vs, 'spec.gateways', `bound to gateways only (${gateways.join(', ')}; no \`mesh\`): not applied to sidecars`), severity: 'info' });
      continue;
    }
    vs.spec.hosts.forEach((h, i) => {
      const host = normaliseHost(h, vs.metadata.namespace);
      const other = routedBy.get(host);
      // Istio merges such VirtualServices in an unspecified order; refuse instead.
      if (other !== undefined) issues.push(issueFor(vs, `spec.hosts[${i}]`, `host ${host} is already routed by ${other}`));
      else routedBy.set(host, resourceRef(vs));
    });
    const annotations = readAnnotations(vs, now, issues);
    const report = (path: string, reason: string): void => {
      issues.push(issueFor(vs, path, reason));
    };
    const warn = (path: string, reason: string, severity: 'warning' | 'info'): void => {
      warnings.push({ ...issueFor(vs, path, reason), severity });
    };
    const exportTo = resolveExportTo(vs, vs.spec.exportTo, issues);
    virtualHosts.push(toVirtualHost(vs, { services: index, annotations, report, warn, ...(exportTo !== undefined ? { exportTo } : {}) }));
    tlsRoutes.push(...toTlsRoutes(vs, index, report));
  }
  for (const d of declared) {
    if (!routedBy.has(d.host)) virtualHosts.push(defaultVirtualHost(d.host, index.get(d.host)?.ports ?? [], resourceRef(d.se)));
  }

  applyOverlays(
    virtualHosts,
    allVirtualServices.filter(isExperimentOverlay),
    now,
    (host, subset) => ruleByHost.get(host)?.spec.subsets?.find((s) => s.name === subset)?.labels ?? undefined,
    issues,
    new Set(ruleOverlays.map((dr) => dr.metadata.annotations[ANNOTATION_EXPERIMENT] ?? '')),
  );
  const outboundTrafficPolicy = trafficPolicyOf(sidecars, issues);
  const peerAuthentications = toPeerAuthentications(
    unique.filter((r): r is IstioPeerAuthentication => r.kind === 'PeerAuthentication'),
    issues,
  );
  const authorizationPolicies = toAuthorizationPolicies(
    unique.filter((r): r is IstioAuthorizationPolicy => r.kind === 'AuthorizationPolicy'),
    issues,
  );
  if (issues.length > 0) return { ok: false, issues, warnings };
  // Optional parts stay absent when unused, so existing config versions do not change.
  const body = {
    services,
    clusters,
    virtualHosts,
    ...(tlsRoutes.length > 0 ? { tlsRoutes } : {}),
    ...(outboundTrafficPolicy !== undefined ? { outboundTrafficPolicy } : {}),
    ...(peerAuthentications.length > 0 ? { peerAuthentications } : {}),
    ...(authorizationPolicies.length > 0 ? { authorizationPolicies } : {}),
  };
  return { ok: true, config: { version: contentVersion(body), ...body }, warnings };
}

/** Sidecar outboundTrafficPolicy.mode: every Sidecar that sets it must agree (one proxy, one policy). */
function trafficPolicyOf(sidecars: readonly IstioSidecar[], issues: ConfigIssue[]): OutboundTrafficPolicy | undefined {
  let mode: OutboundTrafficPolicy | undefined;
  let from: IstioSidecar | undefined;
  for (const sc of sidecars) {
    const m = sc.spec.outboundTrafficPolicy?.mode;
    if (m === undefined) continue;
    if (mode !== undefined && m !== mode) {
      issues.push(issueFor(sc, 'spec.outboundTrafficPolicy.mode', `${m} conflicts with ${mode} from ${resourceRef(from!)}`));
      continue;
    }
    mode = m;
    from = sc;
  }
  return mode;
}

function dropDuplicates(resources: readonly IstioResource[], issues: ConfigIssue[]): IstioResource[] {
  const seen = new Map<string, IstioResource>();
  const out: IstioResource[] = [];
  for (const r of resources) {
    const ref = resourceRef(r);
    const first = seen.get(ref);
    if (first !== undefined) {
      const where = first.file !== undefined ? ` (first defined in ${first.file})` : '';
      issues.push(issueFor(r, 'metadata.name', `duplicate ${ref}${where}`));
      continue;
    }
    seen.set(ref, r);
    out.push(r);
  }
  return out;
}

function declareHosts(entries: readonly IstioServiceEntry[], issues: ConfigIssue[]): DeclaredHost[] {
  const byHost = new Map<string, IstioServiceEntry>();
  const out: DeclaredHost[] = [];
  for (const se of entries) {
    se.spec.hosts.forEach((written, i) => {
      const host = normaliseHost(written, se.metadata.namespace);
      const other = byHost.get(host);
      if (other !== undefined) {
        issues.push(issueFor(se, `spec.hosts[${i}]`, `host ${host} is already declared by ${resourceRef(other)}`));
        return;
      }
      byHost.set(host, se);
      out.push({ host, written, se });
    });
  }
  return out;
}

/**
 * A declared host nobody routes: one catch-all route to the whole service.
 * Also used by the control plane for a host whose VirtualService a namespace
 * cannot see (Istio then routes that namespace's traffic by default).
 */
export function defaultVirtualHost(host: string, ports: readonly number[], source: string): VirtualHostModel {
  const port = ports.length === 1 ? ports[0] : undefined;
  return {
    name: host,
    domains: [host],
    routes: [
      {
        name: 'default',
        match: [],
        action: { kind: 'forward', destinations: [{ host, ...(port !== undefined ? { port } : {}), weight: 100 }] },
        retries: SAFE_DEFAULT_RETRIES,
      },
    ],
    source,
  };
}
