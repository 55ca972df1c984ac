// Long-lived runtime state of one cluster (service + port + subset): its
// endpoints, the picker over them, and the counters that circuit breaking and
// outlier detection read. Survives config swaps; `update` applies a new model.
import { sameLabels, type ClusterModel, type ClusterPolicy } from '../config/model/index.js';
import { createPicker } from '../layers/balance/index.js';
import type { Picker } from '../layers/balance/pickable.js';
import type { DestinationInfo } from '../exchange/index.js';
import type { MeshTls } from '../identity/mesh-tls.js';
import { Endpoint, type PoolSettings } from './endpoint.js';
import { ClusterSecurity } from './upstream-tls.js';

/**
 * Who holds per-endpoint state outside upstream/ (outlier breakers, metric
 * series) and must dispose of it when the endpoint or its cluster leaves the
 * config or DNS. A re-added endpoint is a new object: its state starts fresh.
 */
export interface EndpointRetirement {
  endpointRemoved(cluster: ClusterRuntime, endpoint: Endpoint): void;
  clusterRemoved(cluster: ClusterRuntime): void;
  /** The cluster's new policy cannot eject: drop the endpoint's outlier state (its ejection ends now). */
  outlierStateDropped(cluster: ClusterRuntime, endpoint: Endpoint): void;
  /**
   * The same ip:port came back as a new object (its TLS, weight or labels
   * changed): what is keyed by the address (metric series) moves to `next`
   * instead of starting again from zero; what belongs to the old object goes.
   */
  endpointReplaced(cluster: ClusterRuntime, old: Endpoint, next: Endpoint): void;
}

export const NO_RETIREMENT: EndpointRetirement = {
  endpointRemoved: () => undefined,
  clusterRemoved: () => undefined,
  outlierStateDropped: () => undefined,
  endpointReplaced: () => undefined,
};

/** Outlier detection absent, or with both consecutive-error triggers at 0 (Istio's way to switch it off). */
const cannotEject = (p: ClusterPolicy): boolean => p.outlierDetection === undefined || (p.outlierDetection.consecutive5xxErrors <= 0 && p.outlierDetection.consecutiveGatewayErrors <= 0);

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000; // Istio's tcp.connectTimeout default
const DEFAULT_UPSTREAM_IDLE_MS = 4_000; // < Node's 5 s server keepAliveTimeout: avoids the "503 UC" reuse race

export class ClusterRuntime {
  readonly name: string;
  readonly destination: DestinationInfo;
  model: ClusterModel;
  policy: ClusterPolicy;
  endpoints: Endpoint[] = [];
  picker: Picker<Endpoint>;
  /** Requests in flight (connectionPool.http.http2MaxRequests). */
  active = 0;
  /** Retries in flight (retry budget, connectionPool.http.maxRetries). */
  activeRetries = 0;
  /** Endpoints currently ejected. */
  ejected = 0;
  /** True when fewer than minHealthPercent of endpoints are available: balance over all. */
  panic = false;
  requestsTotal = 0;
  #byId = new Map<string, Endpoint>();
  readonly #retirement: EndpointRetirement;
  readonly #mesh: MeshTls | undefined;
  #security: ClusterSecurity | undefined;
  #securityKey = '';

  constructor(model: ClusterModel, retirement: EndpointRetirement = NO_RETIREMENT, mesh?: MeshTls) {
    this.#retirement = retirement;
    this.#mesh = mesh;
    this.name = model.name;
    const dot = model.host.indexOf('.');
    const serviceName = dot > 0 ? model.host.slice(0, dot) : model.host;
    const rest = dot > 0 ? model.host.slice(dot + 1) : '';
    const ns = rest.endsWith('.svc.cluster.local') ? rest.slice(0, rest.indexOf('.')) : 'unknown';
    this.destination = { cluster: model.name, service: model.host, serviceName, serviceNamespace: ns, subset: model.subset ?? '' };
    this.model = model;
    this.policy = model.policy;
    this.picker = createPicker(model.policy.lb, this.endpoints);
    this.update(model, undefined);
  }

  poolSettings(): PoolSettings {
    const cp = this.policy.connectionPool;
    return {
      maxConnections: cp?.maxConnections,
      connectTimeoutMs: cp?.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      // DestinationRule http.idleTimeout as written (not capped). undici still
      // honours an upstream's `Keep-Alive: timeout=N` hint minus 1 s, so a Node
      // upstream (5 s) is released at 4 s whatever this says: no reuse race.
      idleTimeoutMs: cp?.idleTimeoutMs !== undefined && cp.idleTimeoutMs > 0 ? cp.idleTimeoutMs : DEFAULT_UPSTREAM_IDLE_MS,
      maxRequestsPerConnection: cp?.maxRequestsPerConnection,
      maxConcurrentStreams: cp?.maxConcurrentStreams,
    };
  }

  /**
   * Applies a new model. For a DNS cluster `resolve` gives the current addresses
   * of each endpoint name (each address becomes an endpoint).
   * Endpoints whose ip:port survives keep their object, pool and outlier state.
   */
  update(model: ClusterModel, resolve: ((name: string) => readonly string[]) | undefined): void {
    const poolChanged = JSON.stringify(model.policy.connectionPool) !== JSON.stringify(this.policy.connectionPool);
    this.model = model;
    this.policy = model.policy;
    const settings = this.poolSettings();
    // TLS contexts are built once per distinct tls policy, not per endpoint or connection.
    const securityKey = JSON.stringify([model.tls, model.peerIdentities]);
    if (this.#security === undefined || securityKey !== this.#securityKey) {
      this.#security = new ClusterSecurity(model, this.#mesh);
      this.#securityKey = securityKey;
    }
    const security = this.#security;
    const next: Endpoint[] = [];
    const seen = new Map<string, Endpoint>();
    for (const em of model.endpoints) {
      const addrs = model.discovery === 'dns' ? (resolve?.(em.address) ?? []) : [em.address];
      for (const addr of addrs) {
        const probe = new Endpoint(em, addr, this.destination.serviceName, this.destination.serviceNamespace, settings, security.forEndpoint(em));
        const existing = this.#byId.get(probe.id);
        // A change of TLS (a sidecar appeared, a DestinationRule tls) makes a new endpoint: new pool, new connections.
        const ep = existing !== undefined && existing.tls === probe.tls && sameIdentity(existing, probe) ? existing : probe;
        if (ep === existing && poolChanged) ep.reconfigure(settings);
        if (!seen.has(ep.id)) {
          seen.set(ep.id, ep);
          next.push(ep);
        }
      }
    }
    for (const [id, ep] of this.#byId) {
      const now = seen.get(id);
      if (now === ep) continue;
      if (now === undefined || ep.removed) this.#retire(ep);
      else {
        ep.close();
        this.#retirement.endpointReplaced(this, ep, now);
      }
    }
    this.#byId = seen;
    this.endpoints = next;
    // Envoy rebuilds a cluster whose outlier detection changed, so switching it
    // off ends every ejection at once; an ejected endpoint must not sit out its
    // remaining ejection time under a policy that no longer ejects.
    if (cannotEject(model.policy)) {
      for (const ep of next) {
        this.#retirement.outlierStateDropped(this, ep);
        if (!ep.available && !ep.removed) {
          ep.available = true;
          ep.state = 'healthy';
        }
      }
    }
    this.ejected = next.reduce((n, e) => n + (e.available ? 0 : 1), 0);
    this.recomputePanic();
    this.picker = createPicker(model.policy.lb, this.endpoints);
  }

  recomputePanic(): void {
    const od = this.policy.outlierDetection;
    const total = this.endpoints.length;
    this.panic = od !== undefined && od.minHealthPercent > 0 && total > 0 && ((total - this.ejected) * 100) / total < od.minHealthPercent;
  }

  /** The cluster left the config: every endpoint is retired, then the cluster itself. Idempotent. */
  close(): void {
    for (const ep of this.endpoints) this.#retire(ep);
    this.endpoints = [];
    this.#byId.clear();
    this.ejected = 0;
    this.#retirement.clusterRemoved(this);
  }

  #retire(ep: Endpoint): void {
    if (ep.removed) return;
    ep.close();
    this.#retirement.endpointRemoved(this, ep);
  }
}

function sameIdentity(a: Endpoint, b: Endpoint): boolean {
  return a.weight === b.weight && sameLabels(a.labels, b.labels);
}
