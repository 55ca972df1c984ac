// Traffic to destinations outside the registry (Istio's outbound traffic
// policy). ALLOW_ANY sends it to the original destination unchanged, like
// Envoy's PassthroughCluster (an ORIGINAL_DST cluster); REGISTRY_ONLY sends
// it to the BlackHoleCluster (HTTP 502 NR, TCP closed). Both are visible in
// metrics under those names and in the access log.
import { type ClusterModel, type OutboundTrafficPolicy, type RouteModel } from '../config/model/index.js';
import { errors, MeshletError } from '../errors/index.js';
import { WeightedSplit } from '../layers/balance/index.js';
import { connectionInfoOf, type ConnectionInfo } from '../listener/connection-dispatch.js';
import { WEBSOCKET_ONLY, type CompiledDestination, type CompiledRoute } from '../snapshot/index.js';
import { ClusterRuntime } from '../upstream/cluster.js';
import type { DestinationInfo } from '../exchange/index.js';
import type { RequestState } from './outbound.js';

export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';

export const BLACKHOLE: DestinationInfo = Object.freeze({
  cluster: BLACKHOLE_CLUSTER,
  service: BLACKHOLE_CLUSTER,
  serviceName: BLACKHOLE_CLUSTER,
  serviceNamespace: 'unknown',
  subset: '',
});

export const PASSTHROUGH: DestinationInfo = Object.freeze({
  cluster: PASSTHROUGH_CLUSTER,
  service: PASSTHROUGH_CLUSTER,
  serviceName: PASSTHROUGH_CLUSTER,
  serviceNamespace: 'unknown',
  subset: '',
});

/** Original destinations kept with a live connection pool; the oldest is retired past this. */
const MAX_TARGETS = 256;

const PASSTHROUGH_ROUTE: RouteModel = {
  name: 'allow_any',
  match: [],
  action: { kind: 'forward', destinations: [{ host: PASSTHROUGH_CLUSTER, weight: 100 }] },
};

/**
 * HTTP to an original destination: one ClusterRuntime (hence one undici pool)
 * per ip:port, created on first use, at most MAX_TARGETS of them.
 */
export class PassthroughRoutes {
  readonly #routes = new Map<string, CompiledRoute>();

  /** The route for a redirected connection's original destination under `policy`. */
  route(conn: ConnectionInfo, policy: OutboundTrafficPolicy): CompiledRoute | MeshletError {
    const key = conn.dstAddress.includes(':') ? `[${conn.dstAddress}]:${conn.dstPort}` : `${conn.dstAddress}:${conn.dstPort}`;
    if (policy === 'REGISTRY_ONLY') return errors.blackHole(key);
    let r = this.#routes.get(key);
    if (r === undefined) {
      if (this.#routes.size >= MAX_TARGETS) this.#retireOldest();
      r = compilePassthrough(conn.dstAddress, conn.dstPort);
      this.#routes.set(key, r);
    } else {
      // Map order is insertion order: re-insert to keep recently used targets last.
      this.#routes.delete(key);
      this.#routes.set(key, r);
    }
    return r;
  }

  #retireOldest(): void {
    for (const [key, r] of this.#routes) {
      this.#routes.delete(key);
      r.split?.next().cluster?.close();
      return;
    }
  }

  close(): void {
    for (const r of this.#routes.values()) r.split?.next().cluster?.close();
    this.#routes.clear();
  }
}

function compilePassthrough(address: string, port: number): CompiledRoute {
  const model: ClusterModel = {
    name: PASSTHROUGH_CLUSTER,
    host: PASSTHROUGH_CLUSTER,
    port,
    discovery: 'static',
    endpoints: [{ address, port, labels: {}, weight: 1 }],
    policy: { lb: { kind: 'round_robin' } },
  };
  const cluster = new ClusterRuntime(model);
  const dest: CompiledDestination = { cluster, byPort: undefined, host: PASSTHROUGH_CLUSTER, requestHeaders: undefined, responseHeaders: undefined };
  return {
    name: PASSTHROUGH_ROUTE.name,
    model: PASSTHROUGH_ROUTE,
    kind: 'forward',
    split: new WeightedSplit([{ item: dest, weight: 100 }]),
    requestHeaders: undefined,
    responseHeaders: undefined,
    pathRewrite: null,
    rewriteAuthority: undefined,
    timeoutMs: 0,
    retry: null,
    fault: null,
    mirror: null,
    upgrades: WEBSOCKET_ONLY,
  };
}

/**
 * Wraps the outbound route resolver: a request whose Host no virtual host
 * knows, on a redirected connection, follows the outbound traffic policy
 * (its original destination, or the black hole). Unredirected connections
 * keep answering 404 NR, as an explicit proxy must.
 */
export function withOutboundPolicy(
  resolve: (s: RequestState) => CompiledRoute | MeshletError,
  routes: PassthroughRoutes,
  policy: () => OutboundTrafficPolicy,
): (s: RequestState) => CompiledRoute | MeshletError {
  return (s) => {
    const r = resolve(s);
    if (!(r instanceof MeshletError) || r.code !== 'MESH_ERR_NO_ROUTE') return r;
    const conn = connectionInfoOf(s.req.socket);
    if (conn === undefined || !conn.redirected) return r;
    // A known host whose routes did not match stays a 404 NR.
    if (s.snapshot !== undefined && s.snapshot.hosts.lookup(s.ex.authority) !== undefined) return r;
    const p = routes.route(conn, policy());
    if (p instanceof MeshletError) s.ex.destination = BLACKHOLE;
    return p;
  };
}
