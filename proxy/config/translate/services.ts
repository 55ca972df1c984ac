// ServiceEntry + DestinationRule → ServiceModel and ClusterModel. One cluster
// per host × port, plus one per DestinationRule subset whose endpoints are
// the service's endpoints filtered by the subset's labels.

import { isIP } from 'node:net';
import {
  clusterName,
  type ClusterModel,
  type ConfigIssue,
  type EndpointModel,
  type ServiceModel,
  type ServicePort,
} from '../model/index.js';
import { resourceRef, type IstioDestinationRule, type IstioTrafficPolicy, type IstioServiceEntry, type IstioServicePort } from '../istio/index.js';
import { issueFor } from './issue-for.js';
import { mergeTrafficPolicy, toClusterPolicy } from './traffic-policy.js';
import { mergeTls, toUpstreamTls } from './upstream-tls.js';
import { resolveExportTo } from './export-to.js';

/** What routing needs to know about a declared service. */
export interface ServiceInfo {
  readonly host: string;
  readonly ports: readonly number[];
  readonly subsets: ReadonlySet<string>;
  readonly source: string;
}

export interface ServicesResult {
  readonly services: ServiceModel[];
  readonly clusters: ClusterModel[];
  readonly index: ReadonlyMap<string, ServiceInfo>;
}

/** A normalised host with the ServiceEntry that declared it and the spelling it used. */
export interface DeclaredHost {
  readonly host: string;
  readonly written: string;
  readonly se: IstioServiceEntry;
}

export function buildServices(
  hosts: readonly DeclaredHost[],
  rules: ReadonlyMap<string, IstioDestinationRule>,
  issues: ConfigIssue[],
): ServicesResult {
  const services: ServiceModel[] = [];
  const clusters: ClusterModel[] = [];
  const index = new Map<string, ServiceInfo>();
  const checkedEndpoints = new Set<IstioServiceEntry>();
  for (const { host, written, se } of hosts) {
    const discovery = discoveryOf(se);
    if (!checkedEndpoints.has(se)) {
      checkedEndpoints.add(se);
      checkEndpoints(se, discovery, issues);
    }
    if (discovery === 'dns' && host.startsWith('*') && (se.spec.endpoints ?? []).length === 0) {
      issues.push(issueFor(se, 'spec.resolution', `DNS resolution needs endpoints for wildcard host "${written}"`));
    }
    const dr = rules.get(host);
    const ports = se.spec.ports.map(toServicePort);
    const addresses = checkedAddresses(se, issues);
    const exportTo = resolveExportTo(se, se.spec.exportTo, issues);
    services.push({
      host,
      namespace: se.metadata.namespace,
      ports,
      ...(addresses.length > 0 ? { addresses } : {}),
      source: resourceRef(se),
      ...(exportTo !== undefined ? { exportTo } : {}),
    });
    index.set(host, {
      host,
      ports: ports.map((p) => p.number),
      subsets: new Set((dr?.spec.subsets ?? []).map((s) => s.name)),
      source: resourceRef(se),
    });
    // ServiceEntry subjectAltNames: the identities its endpoints may present under mesh mTLS.
    const sans = se.spec.subjectAltNames ?? [];
    const peerIdentities = sans.length > 0 ? { peerIdentities: sans } : {};
    for (const [pi, port] of se.spec.ports.entries()) {
      const all = endpointsFor(se, written, port, discovery);
      const portProtocol = ports[pi]!.protocol;
      clusters.push({
        name: clusterName(host, port.number),
        host,
        port: port.number,
        discovery,
        endpoints: all,
        policy: toClusterPolicy(mergeTrafficPolicy(dr?.spec.trafficPolicy, undefined, port.number)),
        ...upstreamProtocol(portProtocol, mergeTrafficPolicy(dr?.spec.trafficPolicy, undefined, port.number)),
        ...toUpstreamTls(mergeTls(dr?.spec.trafficPolicy, undefined, port.number)),
        ...peerIdentities,
      });
      for (const subset of dr?.spec.subsets ?? []) {
        const labels = subset.labels ?? {};
        clusters.push({
          name: clusterName(host, port.number, subset.name),
          host,
          port: port.number,
          subset: subset.name,
          discovery,
          endpoints: all.filter((e) => hasLabels(e.labels, labels)),
          policy: toClusterPolicy(mergeTrafficPolicy(dr?.spec.trafficPolicy, subset.trafficPolicy, port.number)),
          ...upstreamProtocol(portProtocol, mergeTrafficPolicy(dr?.spec.trafficPolicy, subset.trafficPolicy, port.number)),
          ...toUpstreamTls(mergeTls(dr?.spec.trafficPolicy, subset.trafficPolicy, port.number)),
          ...peerIdentities,
        });
      }
    }
  }
  return { services, clusters, index };
}

/**
 * DNS / DNS_ROUND_ROBIN resolve names at runtime. STATIC uses addresses as
 * given. NONE (Istio's default, meaning "pass through to the original
 * destination") has no equivalent in an explicit proxy: with IP endpoints we
 * treat it as STATIC, otherwise as DNS so the name still resolves.
 */
function discoveryOf(se: IstioServiceEntry): 'static' | 'dns' {
  const r = se.spec.resolution ?? 'NONE';
  if (r === 'STATIC') return 'static';
  if (r === 'DNS' || r === 'DNS_ROUND_ROBIN') return 'dns';
  const eps = se.spec.endpoints ?? [];
  return eps.length > 0 && eps.every((e) => isIP(e.address) !== 0) ? 'static' : 'dns';
}

function checkEndpoints(se: IstioServiceEntry, discovery: 'static' | 'dns', issues: ConfigIssue[]): void {
  (se.spec.endpoints ?? []).forEach((ep, i) => {
    if (ep.address.startsWith('unix://')) {
      issues.push(issueFor(se, `spec.endpoints[${i}].address`, 'unix domain socket endpoints are not supported'));
    } else if (discovery === 'static' && isIP(ep.address) === 0) {
      issues.push(issueFor(se, `spec.endpoints[${i}].address`, `STATIC resolution needs an IP address, got "${ep.address}" (use resolution: DNS for names)`));
    }
    for (const name of Object.keys(ep.ports ?? {})) {
      if (!se.spec.ports.some((p) => p.name === name)) {
        issues.push(issueFor(se, `spec.endpoints[${i}].ports.${name}`, `no port named "${name}" in spec.ports`));
      }
    }
  });
}

function endpointsFor(se: IstioServiceEntry, written: string, port: IstioServicePort, discovery: 'static' | 'dns'): EndpointModel[] {
  const eps = se.spec.endpoints ?? [];
  const fallbackPort = port.targetPort ?? port.number;
  if (eps.length === 0) {
    // No endpoints: the service name itself is the (resolved) destination.
    return discovery === 'dns' ? [{ address: written, port: fallbackPort, labels: {}, weight: 1 }] : [];
  }
  return eps.map((ep) => ({
    address: ep.address,
    port: ep.ports?.[port.name] ?? fallbackPort,
    labels: ep.labels ?? {},
    // Istio treats weight 0 as unset; the model wants >= 1.
    weight: ep.weight !== undefined && ep.weight > 0 ? ep.weight : 1,
  }));
}

/** ServiceEntry `addresses`: IPs or CIDRs (what TCP traffic is recognised by); anything else is refused. */
function checkedAddresses(se: IstioServiceEntry, issues: ConfigIssue[]): string[] {
  const out: string[] = [];
  (se.spec.addresses ?? []).forEach((a, i) => {
    const slash = a.indexOf('/');
    const ip = slash < 0 ? a : a.slice(0, slash);
    const family = isIP(ip);
    const bits = slash < 0 ? (family === 4 ? 32 : 128) : Number(a.slice(slash + 1));
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128) || (slash >= 0 && a.slice(slash + 1) === '')) {
      // Only once per ServiceEntry even when it declares several hosts.
      if (!issues.some((x) => x.path === `spec.addresses[${i}]` && x.resource === resourceRef(se))) {
        issues.push(issueFor(se, `spec.addresses[${i}]`, `"${a}" is not an IP address or CIDR`));
      }
      return;
    }
    out.push(a);
  });
  return out;
}

/**
 * HTTP/2 to the endpoints for HTTP2 and GRPC ports (Istio), or for an HTTP port
 * whose DestinationRule says `h2UpgradePolicy: UPGRADE`. DEFAULT follows the
 * mesh-wide default, which is Istio's DO_NOT_UPGRADE.
 */
function upstreamProtocol(portProtocol: string, tp: Pick<IstioTrafficPolicy, 'connectionPool'> | undefined): { protocol?: 'http2' } {
  if (portProtocol === 'HTTP2' || portProtocol === 'GRPC') return { protocol: 'http2' };
  if ((portProtocol === 'HTTP' || portProtocol === 'AUTO') && tp?.connectionPool?.http?.h2UpgradePolicy === 'UPGRADE') return { protocol: 'http2' };
  return {};
}

const PROTOCOL_PREFIXES = ['HTTP2', 'HTTPS', 'HTTP', 'GRPC-WEB', 'GRPC', 'TCP', 'TLS', 'MONGO', 'REDIS', 'MYSQL'];

function toServicePort(p: IstioServicePort): ServicePort {
  // Istio infers the protocol from the port name prefix (`http-web`) when not given,
  // and otherwise detects it per connection (AUTO): HTTP is then routed as HTTP,
  // anything else passes through as TCP instead of failing as bad HTTP.
  const upper = p.name.toUpperCase();
  const protocol = p.protocol?.toUpperCase() ?? PROTOCOL_PREFIXES.find((x) => upper === x || upper.startsWith(`${x}-`)) ?? 'AUTO';
  return { number: p.number, name: p.name, protocol, ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}) };
}

function hasLabels(have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  for (const k in want) if (have[k] !== want[k]) return false;
  return true;
}
