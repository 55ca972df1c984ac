// Observability: x-request-id, B3 tracing (+ optional OTLP export), Istio
// metrics, access log and tap, composed into ONE ExchangeObserver the
// pipeline calls. The composite walks a fixed array built at start-up; an
// observer that is switched off is simply not in it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationInfo, Exchange, ExchangeObserver, ResilienceEvents, TcpObserver, TcpRecord } from '../exchange/index.js';
import { AccessLog } from './access-log.js';
import type { HeaderBag } from './b3.js';
import type { TlsCountersView } from './meshlet-metrics.js';
import { MeshMetrics } from './metrics.js';
import { MetricsServer } from './metrics-server.js';
import { ensureRequestId } from './request-id.js';
import { shareMetricsWithPrimary } from './cluster-metrics.js';
import { TapHub } from './tap.js';
import { Tracing, type TracingOptions } from './tracing.js';

export { extractB3, extractW3C, injectB3, type InjectMode, type HeaderBag, type TraceContext } from './b3.js';
export { newSpanId, newTraceId128, padTraceId } from './ids.js';
export { ensureRequestId, requestIdFrom, REQUEST_ID_HEADER } from './request-id.js';
export { Tracing, type TracingOptions } from './tracing.js';
export { MeshMetrics, type MetricsOptions } from './metrics.js';
export type { GaugeProviders, BreakerState, MirrorOutcome, TlsCountersView } from './meshlet-metrics.js';
export { DURATION_BUCKETS_MS, BYTE_BUCKETS, ISTIO_LABELS } from './istio-metrics.js';
export { PEER_HEADER, encodePeer, decodePeer, type WorkloadIdentity } from './peer.js';
export { MetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { clusterMetricsSource, type MetricsSource } from './cluster-metrics.js';
export { AccessLog, accessLogEntry, type AccessLogEntry, type AccessLogOptions } from './access-log.js';
export { TapHub, parseTapQuery, redactHeaders, REDACTED, type TapEvent, type TapFilter } from './tap.js';

/** What the live-state gauges read; UpstreamRegistry satisfies it structurally. */
export interface ClusterSource {
  all(): Iterable<{
    readonly destination: DestinationInfo;
    readonly active: number;
    readonly ejected: number;
    readonly endpoints: readonly { readonly authority: string; readonly available: boolean; readonly connections: number }[];
  }>;
}

export interface ObserversOptions {
  workload: string;
  namespace: string;
  /** Pod labels; `app` and `version` label the metrics. */
  labels?: Readonly<Record<string, string>>;
  /** `off`, `stdout` or a file path. */
  accessLog: string;
  /** Istio per-request metrics on/off (meshlet_* event counters always exist). */
  metrics: boolean;
  tracing: TracingOptions;
  /** Source of the active-requests / connections / ejection / breaker gauges. */
  registry?: ClusterSource;
  /** Config version in use, read at scrape time for meshlet_config_version_info. */
  version?: () => string | undefined;
  /** Expiry (epoch ms) of the workload certificate, for meshlet_cert_expiry_seconds. */
  certExpiry?: () => number | undefined;
  /** This workload's SPIFFE ID, for source/destination_principal. */
  principal?: () => string | undefined;
  /** TLS handshake counters, for meshlet_tls_*. */
  tls?: () => TlsCountersView;
}

/** ResilienceEvents for the pipeline plus what the composition root reports. */
export interface MeshEvents extends ResilienceEvents {
  ejection(service: string, endpoint: string, reason: string): void;
  configApplied(version: string): void;
  configRejected(): void;
  /** A listener refused a request or connection before routing. */
  downstreamRejected(reason: string): void;
  connectionRefused(): void;
}

export interface Observers {
  /** The one observer to hand to the pipeline. */
  readonly observer: ExchangeObserver;
  /** The L4 path's observer: istio_tcp_* and the per-connection access-log line. */
  readonly tcp: TcpObserver;
  readonly events: MeshEvents;
  readonly metrics: MeshMetrics;
  readonly tracing: Tracing;
  readonly accessLog: AccessLog;
  readonly tapHub: TapHub;
  /** GET /tap handler for the admin server. */
  readonly tap: (req: IncomingMessage, res: ServerResponse) => void;
  /** Starts the Prometheus listener; resolves to the bound port. */
  startMetricsServer(port: number, host: string, ready: () => boolean): Promise<number>;
  /** --concurrency worker: no metrics listener of its own; the primary's scrapes sum this registry with the others. */
  shareMetricsWithPrimary(): void;
  /** Ends taps, stops the metrics listener, flushes spans and the access log. */
  close(): Promise<void>;
}

/** Sets x-request-id before the others run so logs, spans and taps all see it. */
const requestIds: ExchangeObserver = {
  onStart(ex: Exchange, upstreamHeaders: HeaderBag): void {
    ensureRequestId(ex, upstreamHeaders);
  },
  onComplete(ex: Exchange): void {
    // Requests that fail before routing never saw onStart.
    if (ex.requestId === '') ensureRequestId(ex);
  },
};

class CompositeObserver implements ExchangeObserver {
  constructor(private readonly list: readonly ExchangeObserver[]) {}
  onStart(ex: Exchange, upstreamHeaders: HeaderBag): void {
    const l = this.list;
    for (let i = 0; i < l.length; i++) {
      try {
        (l[i] as ExchangeObserver).onStart(ex, upstreamHeaders);
      } catch {
        // Observability must never fail a request.
      }
    }
  }
  onComplete(ex: Exchange): void {
    const l = this.list;
    for (let i = 0; i < l.length; i++) {
      try {
        (l[i] as ExchangeObserver).onComplete(ex);
      } catch {
        // As above: keep going so the other observers still see the exchange.
      }
    }
  }
}

function gauges(metrics: MeshMetrics, src: ClusterSource | undefined, version: (() => string | undefined) | undefined): void {
  if (version !== undefined) metrics.provide({ configVersion: version });
  if (src === undefined) return;
  metrics.provide({
    activeRequests: function* () {
      for (const c of src.all()) yield [c.destination.service, c.active] as const;
    },
    upstreamConnections: function* () {
      for (const c of src.all()) {
        let n = 0;
        for (const e of c.endpoints) n += e.connections;
        yield [c.destination.service, n] as const;
      }
    },
    ejectedEndpoints: function* () {
      for (const c of src.all()) yield [c.destination.service, c.ejected] as const;
    },
    breakerStates: function* () {
      for (const c of src.all()) {
        for (const e of c.endpoints) yield { service: c.destination.service, endpoint: e.authority, state: e.available ? 'closed' : 'open' } as const;
      }
    },
  });
}

export async function createObservers(opts: ObserversOptions): Promise<Observers> {
  const metrics = new MeshMetrics({
    workload: opts.workload,
    namespace: opts.namespace,
    labels: { app: opts.labels?.['app'] ?? '', version: opts.labels?.['version'] ?? '' },
    ...(opts.principal !== undefined ? { principal: opts.principal } : {}),
  });
  gauges(metrics, opts.registry, opts.version);
  if (opts.certExpiry !== undefined) metrics.provide({ certExpiry: opts.certExpiry });
  if (opts.tls !== undefined) metrics.provide({ tls: opts.tls });
  const tracing = await Tracing.create(opts.tracing);
  const accessLog = new AccessLog({ target: opts.accessLog });
  const tapHub = new TapHub();
  const list: ExchangeObserver[] = [requestIds, tracing];
  if (opts.metrics) list.push(metrics);
  if (accessLog.enabled) list.push(accessLog);
  list.push(tapHub);
  const events: MeshEvents = {
    retry: (service, reason) => metrics.retry(service, reason),
    retryAbandoned: (service, reason) => metrics.retryAbandoned(service, reason),
    retryBudgetExhausted: (service) => metrics.retryBudgetExhausted(service),
    overflow: (service, limit) => metrics.overflow(service, limit),
    fault: (route, kind) => metrics.faultInjected(route, kind),
    mirror: (route, outcome) => metrics.mirror(route, outcome),
    authorization: (decision, policy, protocol) => metrics.authorization(decision, policy, protocol),
    ejection: (service) => metrics.outlierEjection(service),
    configApplied: (version) => {
      metrics.configReload('applied');
      metrics.configVersion(version);
    },
    configRejected: () => metrics.configRejected(),
    downstreamRejected: (reason) => metrics.downstreamRejected(reason),
    connectionRefused: () => metrics.connectionRefused(),
  };
  let server: MetricsServer | undefined;
  const tcp: TcpObserver = {
    onOpen: (r: TcpRecord) => {
      if (opts.metrics) metrics.tcp.onOpen(r);
    },
    onClose: (r: TcpRecord) => {
      if (opts.metrics) metrics.tcp.onClose(r);
      accessLog.onTcpClose(r);
    },
  };
  return {
    observer: new CompositeObserver(list),
    tcp,
    events,
    metrics,
    tracing,
    accessLog,
    tapHub,
    tap: (req, res) => tapHub.handleTapRequest(req, res),
    async startMetricsServer(port, host, ready) {
      server = await MetricsServer.start({ registry: metrics.registry, port, host, ready });
      return server.port;
    },
    shareMetricsWithPrimary() {
      shareMetricsWithPrimary(metrics.registry);
    },
    async close() {
      tapHub.closeAll();
      await Promise.all([server?.close(), tracing.shutdown(), accessLog.close()]);
    },
  };
}
