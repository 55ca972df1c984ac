// What the injector adds and the annotations it reads: one place for the
// names and defaults shared by the webhook and `meshlet inject`.
// The numbers match `meshlet iptables`' defaults (proxy/interception, Istio's);
// the control plane may not import the proxy's runtime modules, so they are restated.

export const PROXY_CONTAINER = 'meshlet-proxy';
export const INIT_CONTAINER = 'meshlet-init';

/** Pod annotation: "false" opts a pod out, "true" opts it in outside an enabled namespace. */
export const ANNOTATION_INJECT = 'sidecar.meshlet.io/inject';
/** Written on injected pods (like Istio's sidecar.istio.io/status): makes injection idempotent. */
export const ANNOTATION_STATUS = 'sidecar.meshlet.io/status';
/** Namespace label that opts every pod in (unless the pod opts out); "disabled" opts all out. */
export const NAMESPACE_LABEL = 'meshlet-injection';

/** Traffic annotations, named like Istio's traffic.sidecar.istio.io/*. */
export const ANNOTATION_EXCLUDE_OUTBOUND_PORTS = 'traffic.sidecar.meshlet.io/excludeOutboundPorts';
export const ANNOTATION_EXCLUDE_OUTBOUND_IP_RANGES = 'traffic.sidecar.meshlet.io/excludeOutboundIPRanges';
export const ANNOTATION_INCLUDE_OUTBOUND_IP_RANGES = 'traffic.sidecar.meshlet.io/includeOutboundIPRanges';
export const ANNOTATION_EXCLUDE_INBOUND_PORTS = 'traffic.sidecar.meshlet.io/excludeInboundPorts';
export const ANNOTATION_INCLUDE_INBOUND_PORTS = 'traffic.sidecar.meshlet.io/includeInboundPorts';

export interface InjectSettings {
  readonly image: string;
  /** HOST:PORT the sidecar subscribes to. */
  readonly controlPlane: string;
  /** initContainers entry with restartPolicy: Always (Kubernetes >= 1.29); false = classic containers entry. */
  readonly nativeSidecar: boolean;
  readonly proxyUid: number;
  readonly proxyGid: number;
  readonly outboundPort: number;
  readonly inboundPort: number;
  /** Prometheus + /healthz/ready (the readiness probe target). */
  readonly metricsPort: number;
  readonly resources: { readonly requests: Readonly<Record<string, string>>; readonly limits: Readonly<Record<string, string>> };
  /**
   * The mesh CA root (PEM). Set: the sidecar verifies the control plane with it
   * and authenticates with the pod's projected service-account token (audience
   * `tokenAudience`). Unset (a control plane run with --insecure): plaintext.
   */
  readonly caRootPem?: string;
  readonly tokenAudience?: string;
}

/** Where the injected sidecar finds its projected service-account token. */
export const TOKEN_VOLUME = 'meshlet-token';
export const TOKEN_DIR = '/var/run/secrets/meshlet/tokens';
export const TOKEN_PATH = 'meshlet-token';

export const DEFAULT_INJECT_SETTINGS: InjectSettings = Object.freeze({
  image: 'meshlet:dev',
  controlPlane: 'meshlet-control-plane.meshlet-system.svc:15010',
  nativeSidecar: true,
  proxyUid: 1337,
  proxyGid: 1337,
  outboundPort: 15001,
  inboundPort: 15006,
  metricsPort: 15090,
  // Istio's sidecar defaults (global.proxy.resources).
  resources: Object.freeze({ requests: Object.freeze({ cpu: '100m', memory: '128Mi' }), limits: Object.freeze({ cpu: '2000m', memory: '1024Mi' }) }),
});
