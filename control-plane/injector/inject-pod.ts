// The pure injection, shared by the webhook and `meshlet inject`: a pod
// template in, the same template with the sidecar out. Never mutates its
// input. Injecting an injected template changes nothing (idempotent).
//
// What goes in (Istio's shape, Meshlet's names):
//  - `meshlet-init`: runs `meshlet iptables --apply …` as root with
//    NET_ADMIN/NET_RAW (the idempotent script that edits only Meshlet's own
//    chains), exclusions from traffic.sidecar.meshlet.io/* annotations
//    (passed as argv, never through shell parsing, and validated);
//  - `meshlet-proxy`: a native sidecar (initContainers entry, restartPolicy
//    Always: starts before the app, stops after it, ends with a Job's main
//    container) or, for clusters < 1.29, the first `containers` entry; uid/gid
//    1337, read-only root, no capabilities; downward-API env; readiness on
//    /healthz/ready; resource requests.
import type { V1Container, V1EnvVar, V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import {
  ANNOTATION_EXCLUDE_INBOUND_PORTS,
  ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES,
  ANNOTATION_EXCLUDE_OUTBOUND_PORTS,
  ANNOTATION_INCLUDE_INBOUND_PORTS,
  ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES,
  ANNOTATION_INJECT,
  ANNOTATION_STATUS,
  INIT_CONTAINER,
  NAMESPACE_LABEL,
  PROXY_CONTAINER,
  TOKEN_DIR,
  TOKEN_PATH,
  TOKEN_VOLUME,
  type InjectSettings,
} from './inject-settings.js';
import { annotationCidrs, annotationPorts } from './traffic-annotations.js';

export interface PodTemplate {
  metadata?: V1ObjectMeta;
  spec?: V1PodSpec;
}

export type InjectOutcome =
  | { readonly kind: 'injected'; readonly template: PodTemplate }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Ports the proxy itself serves inbound; never captured (Istio: 15090, 15021, 15020). */
const PROXY_INBOUND_PORTS = [15090, 15021, 15020];

/**
 * The webhook's own opt-in check (so a wrong namespaceSelector still injects
 * only where asked): the pod's annotation wins, then the namespace label.
 */
export function wantsInjection(namespaceLabels: Readonly<Record<string, string>> | undefined, template: PodTemplate): { inject: boolean; reason: string } {
  const pod = template.metadata?.annotations?.[ANNOTATION_INJECT] ?? template.metadata?.labels?.[ANNOTATION_INJECT];
  if (pod === 'false') return { inject: false, reason: `pod has ${ANNOTATION_INJECT}: "false"` };
  const ns = namespaceLabels?.[NAMESPACE_LABEL];
  if (ns === 'disabled') return { inject: false, reason: `namespace has ${NAMESPACE_LABEL}=disabled` };
  if (ns === 'enabled') return { inject: true, reason: `namespace has ${NAMESPACE_LABEL}=enabled` };
  if (pod === 'true') return { inject: true, reason: `pod has ${ANNOTATION_INJECT}: "true"` };
  return { inject: false, reason: `namespace is not labelled ${NAMESPACE_LABEL}=enabled` };
}

export function isInjected(template: PodTemplate): boolean {
  const spec = template.spec;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].some((c) => c.name === PROXY_CONTAINER || c.name === INIT_CONTAINER);
}

export function injectPod(template: PodTemplate, settings: InjectSettings, workloadName?: string): InjectOutcome {
  if (!template.spec || !Array.isArray(template.spec.containers) || template.spec.containers.length === 0) return { kind: 'invalid', reason: 'pod spec has no containers' };
  if (isInjected(template)) return { kind: 'skipped', reason: 'already injected' };
  if (template.spec.hostNetwork === true) return { kind: 'skipped', reason: 'hostNetwork pods share the node network: not injected' };
  if (template.metadata?.annotations?.[ANNOTATION_INJECT] === 'false') return { kind: 'skipped', reason: `pod has ${ANNOTATION_INJECT}: "false"` };
  const annotations = template.metadata?.annotations ?? {};
  let iptablesArgs: string[];
  try {
    iptablesArgs = iptablesArguments(annotations, settings);
  } catch (err) {
    return { kind: 'invalid', reason: (err as Error).message };
  }
  const out = structuredClone(template) as PodTemplate & { spec: V1PodSpec };
  const meta = (out.metadata ??= {});
  const labels = meta.labels ?? {};
  const app = out.spec.containers[0]!;
  const appPort = out.spec.containers.flatMap((c) => c.ports ?? []).find((p) => (p.protocol ?? 'TCP') === 'TCP')?.containerPort;
  const proxy = proxyContainer(settings, labels, workloadName ?? labels['app'] ?? meta.name ?? 'unknown', appPort, drainSeconds(out.spec.terminationGracePeriodSeconds));
  const init: V1Container = {
    name: INIT_CONTAINER,
    image: settings.image,
    command: ['meshlet', 'iptables', '--apply', ...iptablesArgs],
    securityContext: { runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] } },
    resources: { requests: { ...settings.resources.requests }, limits: { ...settings.resources.limits } },
  };
  if (settings.caRootPem !== undefined) {
    // The kubelet writes (and rotates) a short-lived token bound to this pod, for the control plane's audience only.
    out.spec.volumes = [
      ...(out.spec.volumes ?? []),
      { name: TOKEN_VOLUME, projected: { sources: [{ serviceAccountToken: { audience: settings.tokenAudience ?? 'meshlet', expirationSeconds: 3600, path: TOKEN_PATH } }] } },
    ];
  }
  out.spec.initContainers = [init, ...(settings.nativeSidecar ? [{ ...proxy, restartPolicy: 'Always' }] : []), ...(out.spec.initContainers ?? [])];
  if (!settings.nativeSidecar) out.spec.containers = [proxy, ...out.spec.containers];
  meta.annotations = {
    ...annotations,
    [ANNOTATION_STATUS]: JSON.stringify({ version: 1, mode: settings.nativeSidecar ? 'native' : 'classic', containers: [PROXY_CONTAINER], initContainers: [INIT_CONTAINER] }),
    // kubectl logs/exec go to the app, not the proxy, by default.
    'kubectl.kubernetes.io/default-container': annotations['kubectl.kubernetes.io/default-container'] ?? app.name,
  };
  return { kind: 'injected', template: out };
}

function iptablesArguments(annotations: Readonly<Record<string, string>>, s: InjectSettings): string[] {
  const inbound = [...PROXY_INBOUND_PORTS, ...annotationPorts(annotations, ANNOTATION_EXCLUDE_INBOUND_PORTS)];
  const args = [`--outbound-port=${s.outboundPort}`, `--inbound-port=${s.inboundPort}`, `--proxy-uid=${s.proxyUid}`, `--proxy-gid=${s.proxyGid}`, `--exclude-inbound-ports=${[...new Set(inbound)].join(',')}`];
  // Istio's includeInboundPorts: "*" (or absent) captures every port, "" none, else only those listed.
  const includeIn = annotations[ANNOTATION_INCLUDE_INBOUND_PORTS];
  if (includeIn !== undefined && includeIn.trim() !== '*') args.push(`--include-inbound-ports=${annotationPorts(annotations, ANNOTATION_INCLUDE_INBOUND_PORTS).join(',')}`);
  const outPorts = annotationPorts(annotations, ANNOTATION_EXCLUDE_OUTBOUND_PORTS);
  if (outPorts.length > 0) args.push(`--exclude-outbound-ports=${outPorts.join(',')}`);
  const exclude = annotationCidrs(annotations, ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES, false);
  if (exclude.length > 0) args.push(`--exclude-outbound-ip-ranges=${exclude.join(',')}`);
  const include = annotationCidrs(annotations, ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES, true);
  if (include.length > 0) args.push(`--include-outbound-ip-ranges=${include.join(',')}`);
  return args;
}

function fieldEnv(name: string, fieldPath: string): V1EnvVar {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

/**
 * The sidecar's drain window fits inside the pod's grace period (Kubernetes default 30 s): the
 * kubelet SIGKILLs at the end of it, so drain ends 1 s before. The proxy exits as soon as nothing
 * is in flight, so a long window costs idle pods nothing.
 */
export function drainSeconds(terminationGracePeriodSeconds: number | undefined): number {
  const grace = terminationGracePeriodSeconds ?? 30;
  return Math.max(1, Math.floor(grace) - 1);
}

function proxyContainer(s: InjectSettings, labels: Readonly<Record<string, string>>, workload: string, appPort: number | undefined, drain: number): V1Container {
  // Labels are the template's (pod-template-hash is added later by the ReplicaSet and means nothing to routing).
  const labelList = Object.entries(labels)
    .filter(([k]) => k !== 'pod-template-hash')
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    name: PROXY_CONTAINER,
    image: s.image,
    args: ['proxy'],
    env: [
      fieldEnv('MESHLET_NAMESPACE', 'metadata.namespace'),
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      { name: 'MESHLET_NODE_ID', value: '$(POD_NAME).$(MESHLET_NAMESPACE)' },
      { name: 'MESHLET_CONTROL_PLANE', value: s.controlPlane },
      // TLS to the control plane, verified against the mesh root (public, so an env value is fine), authenticated by the
      // pod's projected token (TokenReview). Only a control plane run with --insecure injects plaintext sidecars.
      ...(s.caRootPem !== undefined
        ? [
            { name: 'MESHLET_CA_CERT', value: s.caRootPem },
            { name: 'MESHLET_TOKEN_FILE', value: `${TOKEN_DIR}/${TOKEN_PATH}` },
          ]
        : [{ name: 'MESHLET_INSECURE', value: 'true' }]),
      { name: 'MESHLET_SERVICE_ACCOUNT', value: '$(SERVICE_ACCOUNT)' },
      // Sent when subscribing; the control plane checks them against the Pod object.
      { name: 'MESHLET_POD_NAME', value: '$(POD_NAME)' },
      { name: 'MESHLET_POD_IP', value: '$(POD_IP)' },
      { name: 'MESHLET_WORKLOAD', value: workload },
      { name: 'MESHLET_DRAIN_SECONDS', value: String(drain) },
      { name: 'MESHLET_LABELS', value: labelList },
      { name: 'MESHLET_OUTBOUND_PORT', value: String(s.outboundPort) },
      { name: 'MESHLET_INBOUND_PORT', value: String(s.inboundPort) },
      { name: 'MESHLET_METRICS_PORT', value: String(s.metricsPort) },
      ...(appPort !== undefined ? [{ name: 'MESHLET_APP_PORT', value: String(appPort) }] : []),
    ],
    // Named like Istio's, so its envoy-stats Prometheus job (port name *-envoy-prom) scrapes it unchanged.
    ports: [{ name: 'http-envoy-prom', containerPort: s.metricsPort, protocol: 'TCP' }],
    ...(s.caRootPem !== undefined ? { volumeMounts: [{ name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true }] } : {}),
    readinessProbe: { httpGet: { path: '/healthz/ready', port: s.metricsPort }, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30 },
    resources: { requests: { ...s.resources.requests }, limits: { ...s.resources.limits } },
    securityContext: {
      runAsUser: s.proxyUid,
      runAsGroup: s.proxyGid,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
  };
}
