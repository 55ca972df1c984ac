// The view of an endpoint that load-balancing pickers need. The runtime
// endpoint (proxy/upstream) implements it; pickers never see pools or sockets.
export interface PickableEndpoint {
  /** `ip:port`, unique within a cluster; also the consistent-hash identity. */
  readonly id: string;
  /** Relative weight >= 1. */
  readonly weight: number;
  /** Requests in flight right now (least-request reads it). */
  readonly active: number;
  /** False while ejected by outlier detection. */
  readonly available: boolean;
}

/**
 * A picker is built once per (cluster, endpoint set) and reused for every
 * request until the set changes. `pick` must not allocate.
 */
export interface Picker<E extends PickableEndpoint = PickableEndpoint> {
  /**
   * @param hash    consistent-hash key of the request (ring hash / maglev), undefined otherwise or when absent
   * @param avoid   an endpoint to avoid if another is available (retry previous-host avoidance)
   * @param panic   true when the cluster is in panic mode: ignore `available` and balance over all
   */
  pick(hash: number | undefined, avoid: E | undefined, panic: boolean): E | undefined;
}
