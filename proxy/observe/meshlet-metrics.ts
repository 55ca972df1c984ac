// Meshlet's own series (`meshlet_*`): what the resilience layers did. Layers
// call typed methods (`metrics.retry(service, reason, outcome)`); each call is
// two Map lookups and an addition on a pre-bound series. Gauges that mirror
// live state are read at scrape time from provider functions, so the layers
// keep no metric bookkeeping of their own.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MirrorOutcome } from '../exchange/index.js';
import { BoundCounter, type CounterSeries } from './bound-metrics.js';

export type BreakerState = 'closed' | 'open' | 'half_open';
export type { MirrorOutcome };

/** Live-state readers, called on each scrape. Each yields [destination_service, value]. */
export interface GaugeProviders {
  activeRequests?: () => Iterable<readonly [string, number]>;
  upstreamConnections?: () => Iterable<readonly [string, number]>;
  ejectedEndpoints?: () => Iterable<readonly [string, number]>;
  /** One entry per endpoint; endpoints are bounded by config. */
  breakerStates?: () => Iterable<{ readonly service: string; readonly endpoint: string; readonly state: BreakerState }>;
  /** Config version in use; when given it wins over configVersion() calls. */
  configVersion?: () => string | undefined;
  /** Expiry (epoch ms) of the workload certificate in use; undefined = none yet. */
  certExpiry?: () => number | undefined;
  /** TLS handshake counters (identity/mesh-tls.ts TlsCounters), read at scrape time. */
  tls?: () => TlsCountersView;
}

/** What the TLS counters expose (kept structural: observe/ does not import identity/). */
export interface TlsCountersView {
  readonly outboundFull: number;
  readonly outboundResumed: number;
  readonly outboundFailed: number;
  readonly inboundFull: number;
  readonly inboundResumed: number;
  readonly inboundFailed: number;
  readonly plaintextRefused: number;
}

const SEP = '\u0001';

/** A counter whose series are found by up to three label values through nested maps (no key strings per call). */
class NestedCounter {
  private readonly root = new Map<string, Map<string, Map<string, CounterSeries>>>();
  constructor(private readonly metric: BoundCounter) {}
  get(a: string, b = '', c = ''): CounterSeries {
    let m1 = this.root.get(a);
    if (m1 === undefined) {
      m1 = new Map();
      this.root.set(a, m1);
    }
    let m2 = m1.get(b);
    if (m2 === undefined) {
      m2 = new Map();
      m1.set(b, m2);
    }
    let s = m2.get(c);
    if (s === undefined) {
      const values = [a, b, c].slice(0, this.metric.labelNames.length);
      s = this.metric.bind(values.join(SEP), values);
      m2.set(c, s);
    }
    return s;
  }
}

function fromProvider(gauge: Gauge<string>, read: (() => Iterable<readonly [string, number]>) | undefined): void {
  gauge.reset();
  if (read === undefined) return;
  for (const [service, v] of read()) gauge.set({ destination_service: service }, v);
}

export class MeshletMetrics {
  private readonly retries: NestedCounter;
  private readonly abandoned: NestedCounter;
  private readonly budget: NestedCounter;
  private readonly overflows: NestedCounter;
  private readonly ejections: NestedCounter;
  private readonly faults: NestedCounter;
  private readonly mirrors: NestedCounter;
  private readonly authz: NestedCounter;
  private readonly reloads: NestedCounter;
  private readonly loops: NestedCounter;
  private readonly rejections: CounterSeries;
  private readonly downstreamRejections: NestedCounter;
  private readonly cxOverflow: CounterSeries;
  private readonly versionInfo: Gauge<string>;
  private providers: GaugeProviders = {};

  constructor(registry: Registry) {
    const c = (name: string, help: string, labels: string[]): NestedCounter => new NestedCounter(new BoundCounter(name, help, labels, registry));
    // Counted when a retry is issued; how the request finally ended is in istio_requests_total.
    this.retries = c('meshlet_retries_total', 'Upstream retries issued, by what triggered them', ['destination_service', 'reason']);
    this.abandoned = c(
      'meshlet_retries_abandoned_total',
      'Retries not attempted because the request could not be replayed (body past --buffer-limit)',
      ['destination_service', 'reason'],
    );
    this.budget = c('meshlet_retry_budget_exhausted_total', 'Retries skipped because the retry budget was exhausted', ['destination_service']);
    this.overflows = c('meshlet_overflow_total', 'Requests rejected by a connection-pool limit', ['destination_service', 'limit']);
    this.ejections = c('meshlet_outlier_ejections_total', 'Outlier-detection ejections', ['destination_service']);
    this.faults = c('meshlet_faults_injected_total', 'Faults injected by route', ['route', 'kind']);
    this.mirrors = c('meshlet_mirror_requests_total', 'Mirrored (shadow) requests by outcome', ['route', 'outcome']);
    this.authz = c(
      'meshlet_authorization_total',
      'Inbound requests (http) and connections (tcp) denied or audited by an AuthorizationPolicy; policy "" = no ALLOW policy matched',
      ['decision', 'policy', 'protocol'],
    );
    this.reloads = c('meshlet_config_reloads_total', 'Config snapshots applied or rejected', ['outcome']);
    this.loops = c('meshlet_interception_loops_total', 'Redirected connections refused because their original destination is this proxy', []);
    this.rejections = new BoundCounter('meshlet_config_rejections_total', 'Configs rejected (parse, validation or compile error); the last good one keeps serving', [], registry).bind('', []);
    this.downstreamRejections = c('meshlet_downstream_rejections_total', 'Requests and connections refused by a listener before routing, by reason', ['reason']);
    this.cxOverflow = new BoundCounter('meshlet_downstream_cx_overflow_total', 'Downstream connections refused because --max-connections was reached', [], registry).bind('', []);
    const self = this;
    this.versionInfo = new Gauge({
      name: 'meshlet_config_version_info',
      help: 'Version of the config snapshot in use (value 1)',
      labelNames: ['version'],
      registers: [registry],
      // --concurrency: 1 for each version some worker runs, not the number of workers.
      aggregator: 'max',
      collect() {
        const read = self.providers.configVersion;
        if (read === undefined) return;
        const v = read();
        this.reset();
        if (v !== undefined) this.set({ version: v }, 1);
      },
    });
    const svcGauge = (name: string, help: string, pick: (p: GaugeProviders) => GaugeProviders['activeRequests'], aggregator: 'sum' | 'max'): void => {
      new Gauge({
        name,
        help,
        labelNames: ['destination_service'],
        registers: [registry],
        aggregator,
        collect() {
          fromProvider(this, pick(self.providers));
        },
      });
    };
    // --concurrency: requests and connections add up across workers; each worker
    // ejects on its own, so the ejected count is the most any worker has ejected.
    svcGauge('meshlet_active_requests', 'Requests in flight per destination', (p) => p.activeRequests, 'sum');
    svcGauge('meshlet_upstream_connections', 'Open upstream connections per destination', (p) => p.upstreamConnections, 'sum');
    svcGauge('meshlet_outlier_ejected_endpoints', 'Endpoints currently ejected by outlier detection', (p) => p.ejectedEndpoints, 'max');
    new Gauge({
      name: 'meshlet_cert_expiry_seconds',
      help: 'Time left before the workload certificate in use expires (absent until one is issued; rotation happens at half its lifetime)',
      registers: [registry],
      aggregator: 'min',
      collect() {
        this.reset();
        const at = self.providers.certExpiry?.();
        if (at !== undefined) this.set((at - Date.now()) / 1000);
      },
    });
    // Counters kept by the TLS code itself (one increment per handshake), exposed here at scrape time.
    const tlsCounter = (name: string, help: string, labelNames: string[], values: (t: TlsCountersView) => [Record<string, string>, number][]): void => {
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          const read = self.providers.tls;
          if (read === undefined) return;
          this.reset();
          for (const [labels, v] of values(read())) this.inc(labels, v);
        },
      });
    };
    tlsCounter('meshlet_tls_handshakes_total', 'TLS handshakes completed (mesh mTLS and DestinationRule TLS), by direction and whether the session was resumed', ['direction', 'resumed'], (t) => [
      [{ direction: 'outbound', resumed: 'false' }, t.outboundFull],
      [{ direction: 'outbound', resumed: 'true' }, t.outboundResumed],
      [{ direction: 'inbound', resumed: 'false' }, t.inboundFull],
      [{ direction: 'inbound', resumed: 'true' }, t.inboundResumed],
    ]);
    tlsCounter('meshlet_tls_handshake_errors_total', 'TLS handshakes that failed (bad or missing peer certificate, wrong identity, timeout)', ['direction'], (t) => [
      [{ direction: 'outbound' }, t.outboundFailed],
      [{ direction: 'inbound' }, t.inboundFailed],
    ]);
    tlsCounter('meshlet_mtls_refused_connections_total', 'Inbound connections refused by PeerAuthentication STRICT (plaintext or not mesh mTLS)', [], (t) => [[{}, t.plaintextRefused]]);
    new Gauge({
      name: 'meshlet_endpoint_breaker_state',
      help: 'Circuit-breaker state per endpoint (1 for the current state, 0 otherwise)',
      labelNames: ['destination_service', 'endpoint', 'state'],
      registers: [registry],
      // --concurrency: 1 when any worker's breaker for the endpoint is in that state.
      aggregator: 'max',
      collect() {
        this.reset();
        const read = self.providers.breakerStates;
        if (read === undefined) return;
        for (const b of read()) {
          for (const state of ['closed', 'open', 'half_open'] as const) {
            this.set({ destination_service: b.service, endpoint: b.endpoint, state }, b.state === state ? 1 : 0);
          }
        }
      },
    });
  }

  /** Adds (or replaces) live-state readers for the gauges. */
  provide(p: GaugeProviders): void {
    this.providers = { ...this.providers, ...p };
  }

  /** One retry of `service` issued for `reason` (`status`, `connect`, `reset`, `per_try_timeout`). */
  retry(service: string, reason: string): void {
    this.retries.get(service, reason).inc();
  }
  /** A retry the policy allowed but the request could not make; `reason`: `body_too_large`. */
  retryAbandoned(service: string, reason: string): void {
    this.abandoned.get(service, reason).inc();
  }
  retryBudgetExhausted(service: string): void {
    this.budget.get(service).inc();
  }
  /** `limit`: `max_requests` or `max_pending_requests` (layers/admit). */
  overflow(service: string, limit: string): void {
    this.overflows.get(service, limit).inc();
  }
  /** A redirected connection aimed at the proxy's own listener was refused. */
  interceptionLoop(): void {
    this.loops.get('').inc();
  }
  outlierEjection(service: string): void {
    this.ejections.get(service).inc();
  }
  /** `kind`: `delay` or `abort`. */
  faultInjected(route: string, kind: string): void {
    this.faults.get(route, kind).inc();
  }
  mirror(route: string, outcome: MirrorOutcome): void {
    this.mirrors.get(route, outcome).inc();
  }
  authorization(decision: string, policy: string, protocol: string): void {
    this.authz.get(decision, policy, protocol).inc();
  }
  /** `outcome`: `applied` or `rejected`. */
  configReload(outcome: string): void {
    this.reloads.get(outcome).inc();
  }
  /** A config was refused: counted in both the reloads and the rejections series. */
  configRejected(): void {
    this.reloads.get('rejected').inc();
    this.rejections.inc();
  }
  /** A listener refused a request before routing (`reason`: see listener/request-guard RejectReason). */
  downstreamRejected(reason: string): void {
    this.downstreamRejections.get(reason).inc();
  }
  connectionRefused(): void {
    this.cxOverflow.inc();
  }
  configVersion(version: string): void {
    this.versionInfo.reset();
    this.versionInfo.set({ version }, 1);
  }
}
