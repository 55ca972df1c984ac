// Outlier detection (DestinationRule outlierDetection) on opossum 9 breakers,
// one per endpoint, created only for clusters that configure it. opossum gives
// the state machine (closed → open → half-open with a single trial → closed)
// and its events; Istio's semantics are added around it: consecutive 5xx /
// gateway-error counting, ejection time = base × times ejected (capped; the
// multiplier decays by one per interval spent healthy, as in Envoy),
// maxEjectionPercent (at least one endpoint may always be ejected) and panic
// mode via minHealthPercent (ClusterRuntime.recomputePanic).
//
// opossum is used lean, as a proxy needs it: we never call fire() (requests go
// through our forwarder), timeout off, snapshots and percentiles off, and one
// shared bucket-rotation emitter instead of a timer per breaker.
//
// Each breaker is owned by its endpoint's life: when the endpoint leaves its
// cluster (config or DNS), forget() shuts the breaker down (its reset timer,
// its listener on the rotation emitter, its own listeners), so a removed
// endpoint can never touch its old cluster's ejected count again.
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { AttemptOutcome, OutcomeRecorder } from './outcome-recorder.js';
import type { ClusterRuntime } from './cluster.js';
import type { Endpoint } from './endpoint.js';

const MAX_EJECTION_MS = 300_000; // Envoy's max_ejection_time default
const noop = async (): Promise<void> => undefined;

interface EndpointHealth {
  readonly breaker: CircuitBreaker;
  consecutive5xx: number;
  consecutiveGateway: number;
  ejections: number;
  /** When the endpoint last became healthy again (breaker closed), 0 if never. */
  healthySince: number;
}

export type EjectionListener = (cluster: ClusterRuntime, endpoint: Endpoint, reason: string) => void;

export class OutlierDetector implements OutcomeRecorder {
  readonly #health = new WeakMap<Endpoint, EndpointHealth>();
  readonly #rotate = new EventEmitter();
  readonly #timer: NodeJS.Timeout;
  readonly #onEject: EjectionListener;
  /** Live breaker count (for the benchmark's memory figures). */
  breakers = 0;

  constructor(onEject: EjectionListener) {
    this.#onEject = onEject;
    // One listener per live endpoint with outlier state (forget() removes it), so
    // the count is bounded by config, not by history; thousands are legitimate.
    this.#rotate.setMaxListeners(0);
    // One timer rotates every breaker's stats window (opossum's rotateBucketController).
    this.#timer = setInterval(() => this.#rotate.emit('rotate'), 1000);
    this.#timer.unref();
  }

  record(cluster: ClusterRuntime, ep: Endpoint, outcome: AttemptOutcome): void {
    const od = cluster.policy.outlierDetection;
    // An attempt that was in flight when its endpoint was removed: nothing left to judge.
    if (od === undefined || ep.removed) return;
    const h = this.#healthOf(cluster, ep);
    const isGateway = outcome === 502 || outcome === 503 || outcome === 504 || typeof outcome === 'string';
    const is5xx = isGateway || (typeof outcome === 'number' && outcome >= 500);
    if (!is5xx) {
      h.consecutive5xx = 0;
      h.consecutiveGateway = 0;
      // The half-open trial succeeded: the endpoint is healthy again.
      if (h.breaker.halfOpen) h.breaker.close();
      return;
    }
    ep.errorsTotal++;
    h.consecutive5xx++;
    if (isGateway) h.consecutiveGateway++;
    let reason = '';
    if (h.breaker.halfOpen) reason = 'failed half-open trial';
    else if (od.consecutive5xxErrors > 0 && h.consecutive5xx >= od.consecutive5xxErrors) reason = `${h.consecutive5xx} consecutive 5xx`;
    else if (od.consecutiveGatewayErrors > 0 && h.consecutiveGateway >= od.consecutiveGatewayErrors) reason = `${h.consecutiveGateway} consecutive gateway errors`;
    if (reason === '' || h.breaker.opened) return;
    // maxEjectionPercent, but one endpoint can always be ejected (Envoy's rule).
    const total = cluster.endpoints.length;
    if (cluster.ejected > 0 && ((cluster.ejected + 1) * 100) / total > od.maxEjectionPercent) return;
    // Envoy decrements the ejection multiplier once per interval spent healthy, so an
    // endpoint that failed long ago is not punished with an ever longer ejection.
    if (h.healthySince > 0) h.ejections = Math.max(0, h.ejections - Math.floor((Date.now() - h.healthySince) / od.intervalMs));
    h.healthySince = 0;
    h.ejections++;
    // opossum reads options.resetTimeout each time it opens; its types do not expose it.
    (h.breaker as unknown as { options: { resetTimeout: number } }).options.resetTimeout = Math.min(od.baseEjectionTimeMs * h.ejections, Math.max(MAX_EJECTION_MS, od.baseEjectionTimeMs));
    ep.state = `ejected: ${reason}`;
    h.breaker.open();
    this.#onEject(cluster, ep, reason);
  }

  #healthOf(cluster: ClusterRuntime, ep: Endpoint): EndpointHealth {
    let h = this.#health.get(ep);
    if (h !== undefined) return h;
    const od = cluster.policy.outlierDetection!;
    const breaker = new CircuitBreaker(noop, {
      timeout: false,
      resetTimeout: od.baseEjectionTimeMs,
      errorThresholdPercentage: 100,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      rollingCountTimeout: od.intervalMs,
      // We never read opossum's rolling stats (our counters decide): one bucket
      // instead of ten saves about 2 KB per endpoint (test/bench/outlier-cost.ts).
      rollingCountBuckets: 1,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: this.#rotate,
      capacity: Number.MAX_SAFE_INTEGER,
      allowWarmUp: false,
      autoRenewAbortController: false,
      cache: false,
      name: ep.id,
      group: cluster.name,
    });
    breaker.on('open', () => {
      if (ep.removed) return;
      ep.available = false;
      cluster.ejected++;
      cluster.recomputePanic();
    });
    // Ejection time is over: let traffic back, the next outcome decides (half-open trial).
    breaker.on('halfOpen', () => {
      if (!ep.available && !ep.removed) {
        ep.available = true;
        cluster.ejected--;
        cluster.recomputePanic();
      }
      ep.state = 'half-open';
    });
    breaker.on('close', () => {
      h!.consecutive5xx = 0;
      h!.consecutiveGateway = 0;
      h!.healthySince = Date.now();
      ep.state = 'healthy';
    });
    h = { breaker, consecutive5xx: 0, consecutiveGateway: 0, ejections: 0, healthySince: 0 };
    this.#health.set(ep, h);
    this.breakers++;
    return h;
  }

  /** The endpoint left its cluster: shut its breaker down and drop its state (a re-added endpoint starts fresh). */
  forget(ep: Endpoint): void {
    const h = this.#health.get(ep);
    if (h === undefined) return;
    this.#health.delete(ep);
    h.breaker.shutdown();
    this.breakers--;
  }

  /** Breakers subscribed to the shared rotation emitter (one per live endpoint with outlier state). */
  get rotationListeners(): number {
    return this.#rotate.listenerCount('rotate');
  }

  /** Breaker state of an endpoint for /clusters and metrics. */
  stateOf(ep: Endpoint): 'closed' | 'open' | 'half_open' | 'none' {
    const h = this.#health.get(ep);
    if (h === undefined) return 'none';
    return h.breaker.opened ? 'open' : h.breaker.halfOpen ? 'half_open' : 'closed';
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
