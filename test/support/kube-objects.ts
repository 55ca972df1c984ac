// Builders for the Kubernetes objects the tests feed the fake API server,
// shaped as the real API returns them (only the fields Meshlet reads, plus names).
import type { KubeObject } from './fake-kube-apiserver.js';

export interface PortSpec {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number;
  readonly appProtocol?: string;
}

export function service(name: string, ports: readonly PortSpec[], opts: { ns?: string; headless?: boolean; externalName?: string; annotations?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: opts.ns ?? 'default', labels: { app: name }, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      ...(opts.externalName ? { type: 'ExternalName', externalName: opts.externalName } : { type: 'ClusterIP', selector: { app: name }, clusterIP: opts.headless ? 'None' : '10.96.0.10' }),
      ports: ports.map((p) => ({ protocol: 'TCP', ...p, targetPort: p.targetPort ?? p.port })),
    },
  };
}

export interface EndpointSpec {
  readonly ip: string;
  readonly pod?: string;
  readonly ready?: boolean;
  readonly terminating?: boolean;
}

export function endpointSlice(svc: string, endpoints: readonly EndpointSpec[], ports: readonly { name?: string; port: number }[], opts: { ns?: string; suffix?: string } = {}): KubeObject {
  const ns = opts.ns ?? 'default';
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-${opts.suffix ?? 'abcde'}`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: e.terminating ?? false },
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: ns } } : {}),
    })),
    ports: ports.map((p) => ({ protocol: 'TCP', ...(p.name !== undefined ? { name: p.name } : {}), port: p.port })),
  };
}

export function pod(name: string, ip: string, labels: Record<string, string>, opts: { ns?: string; serviceAccount?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.ns ?? 'default', labels },
    spec: { serviceAccountName: opts.serviceAccount ?? 'default', containers: [{ name: 'app', image: 'app:1' }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
}

export function istio(kind: 'VirtualService' | 'DestinationRule' | 'ServiceEntry', name: string, spec: unknown, opts: { ns?: string; version?: string } = {}): KubeObject {
  return { apiVersion: `networking.istio.io/${opts.version ?? 'v1'}`, kind, metadata: { name, namespace: opts.ns ?? 'default' }, spec };
}
