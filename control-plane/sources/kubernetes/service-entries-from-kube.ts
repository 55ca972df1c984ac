// Kubernetes Services (+ EndpointSlices, + Pod labels) → the ServiceEntry
// objects the shared Istio translation already understands, so a Kubernetes
// Service is a mesh service with no hand-written ServiceEntry (as in Istio).
// Pure: the caller passes the informer caches.
//
//  - host `name.namespace.svc.cluster.local`, one port per TCP service port;
//    protocol from `appProtocol`, else the port-name prefix (Istio's rule).
//  - endpoints: EndpointSlice addresses whose `ready` condition is not false
//    (terminating endpoints leave the load balancer; in-flight requests finish
//    on their open connections), all addresses when the Service sets
//    publishNotReadyAddresses. Labels come from the Pod (targetRef, else IP),
//    which is how DestinationRule subsets select versions.
//  - headless Services are handled the same way (pod IPs); ExternalName
//    Services resolve `spec.externalName` by DNS.
import type { V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ConfigIssue } from '../../../proxy/config/model/index.js';
import type { IstioServiceEntry } from '../../../proxy/config/index.js';

export const CLUSTER_DOMAIN = 'svc.cluster.local';
/** The label EndpointSlice controllers set to the owning Service's name. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Names synthesized ServiceEntries so they never clash with a real one. */
export const SYNTHETIC_PREFIX = 'kubernetes-service.';
/** Istio's annotation giving a Kubernetes Service the visibility `exportTo` gives a ServiceEntry. */
export const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

export interface KubeServiceInputs {
  readonly services: readonly V1Service[];
  readonly slices: readonly V1EndpointSlice[];
  readonly pods: readonly V1Pod[];
}

export interface KubeServiceEntries {
  readonly entries: IstioServiceEntry[];
  /** Warnings: Services that are not meshed and why (UDP only, no ports, …). */
  readonly issues: ConfigIssue[];
}

type SePort = { number: number; name: string; protocol?: string; targetPort?: number };
type SeEndpoint = { address: string; ports: Record<string, number>; labels: Record<string, string> };

const APP_PROTOCOLS: Readonly<Record<string, string>> = {
  'kubernetes.io/h2c': 'HTTP2',
  'kubernetes.io/ws': 'HTTP',
  'kubernetes.io/wss': 'HTTPS',
};

export function serviceEntriesFromKube(input: KubeServiceInputs): KubeServiceEntries {
  const entries: IstioServiceEntry[] = [];
  const issues: ConfigIssue[] = [];
  const podsByName = new Map<string, V1Pod>();
  const podsByIp = new Map<string, V1Pod>();
  for (const p of input.pods) {
    podsByName.set(`${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`, p);
    for (const ip of p.status?.podIPs ?? []) if (ip.ip) podsByIp.set(ip.ip, p);
    if (p.status?.podIP) podsByIp.set(p.status.podIP, p);
  }
  const slicesBySvc = new Map<string, V1EndpointSlice[]>();
  for (const s of input.slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${s.metadata?.namespace ?? ''}/${svc}`;
    const list = slicesBySvc.get(key);
    if (list) list.push(s);
    else slicesBySvc.set(key, [s]);
  }
  for (const svc of input.services) {
    const name = svc.metadata?.name;
    const ns = svc.metadata?.namespace ?? 'default';
    if (!name) continue;
    const resource = `Service/${ns}/${name}`;
    const ports = (svc.spec?.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map(toPort);
    if (ports.length === 0) {
      issues.push({ resource, path: 'spec.ports', reason: 'warning: no TCP port, so not part of the mesh' });
      continue;
    }
    const host = `${name}.${ns}.${CLUSTER_DOMAIN}`;
    const base = { kind: 'ServiceEntry' as const, apiVersion: 'networking.istio.io/v1', metadata: { name: `${SYNTHETIC_PREFIX}${name}`, namespace: ns, annotations: svc.metadata?.annotations ?? {}, labels: svc.metadata?.labels ?? {} } };
    // Istio's per-Service visibility: `networking.istio.io/exportTo: ".,istio-system"`.
    const exportAnnotation = svc.metadata?.annotations?.[EXPORT_TO_ANNOTATION];
    const exportTo = exportAnnotation !== undefined ? { exportTo: exportAnnotation.split(',').map((x) => x.trim()).filter((x) => x !== '') } : {};
    if (svc.spec?.type === 'ExternalName') {
      const target = svc.spec.externalName;
      if (!target) {
        issues.push({ resource, path: 'spec.externalName', reason: 'ExternalName Service without externalName' });
        continue;
      }
      entries.push({ ...base, spec: { hosts: [host], location: 'MESH_EXTERNAL', resolution: 'DNS', ports, endpoints: [{ address: target }], ...exportTo } });
      continue;
    }
    const endpoints = endpointsOf(svc, ports, slicesBySvc.get(`${ns}/${name}`) ?? [], podsByName, podsByIp);
    entries.push({ ...base, spec: { hosts: [host], location: 'MESH_INTERNAL', resolution: 'STATIC', ports, endpoints, ...exportTo } });
  }
  return { entries, issues };
}

function portName(p: V1ServicePort): string {
  return p.name !== undefined && p.name !== '' ? p.name : `port-${p.port}`;
}

function toPort(p: V1ServicePort): SePort {
  const app = p.appProtocol?.toLowerCase();
  const protocol = app === undefined ? undefined : (APP_PROTOCOLS[app] ?? app.toUpperCase());
  const target = typeof p.targetPort === 'number' ? p.targetPort : undefined;
  // Without appProtocol the shared translation infers the protocol from the name prefix.
  return { number: p.port, name: portName(p), ...(protocol !== undefined ? { protocol } : {}), ...(target !== undefined ? { targetPort: target } : {}) };
}

function endpointsOf(
  svc: V1Service,
  ports: readonly SePort[],
  slices: readonly V1EndpointSlice[],
  podsByName: ReadonlyMap<string, V1Pod>,
  podsByIp: ReadonlyMap<string, V1Pod>,
): SeEndpoint[] {
  const includeNotReady = svc.spec?.publishNotReadyAddresses === true;
  const byAddress = new Map<string, SeEndpoint>();
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue; // deprecated by Kubernetes; never produced for selectors
    // A slice port is matched to the Service port of the same name ('' for the single unnamed port).
    const portMap: Record<string, number> = {};
    for (const sp of slice.ports ?? []) {
      const svcPort = (svc.spec?.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''));
      if (svcPort && sp.port !== undefined && ports.some((p) => p.name === portName(svcPort))) portMap[portName(svcPort)] = sp.port;
    }
    for (const ep of slice.endpoints) {
      if (!includeNotReady && ep.conditions?.ready === false) continue;
      const ref = ep.targetRef?.kind === 'Pod' ? podsByName.get(`${ep.targetRef.namespace ?? slice.metadata?.namespace ?? ''}/${ep.targetRef.name ?? ''}`) : undefined;
      for (const address of ep.addresses) {
        if (byAddress.has(address)) continue;
        const pod = ref ?? podsByIp.get(address);
        byAddress.set(address, { address, ports: { ...portMap }, labels: { ...(pod?.metadata?.labels ?? {}) } });
      }
    }
  }
  // Sorted so an unchanged cluster keeps its content hash (version) across relists.
  return [...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}
