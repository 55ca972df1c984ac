// The proxy's Prometheus registry: Istio's standard request metrics (an
// ExchangeObserver), Meshlet's resilience series (typed methods the layers
// call) and prom-client's default process metrics. Its own Registry, never
// prom-client's global one, so tests and embedders can run several proxies.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { DestinationInfo, EndpointInfo, Exchange, ExchangeObserver } from '../exchange/index.js';
import type { HeaderBag } from './b3.js';
import { IstioMetrics } from './istio-metrics.js';
import { IstioTcpMetrics } from './istio-tcp-metrics.js';
import { MeshletMetrics } from './meshlet-metrics.js';
import type { WorkloadIdentity } from './peer.js';

export interface MetricsOptions {
  /** This proxy's workload, e.g. `reviews-v1`. */
  workload: string;
  namespace: string;
  labels?: { app?: string; version?: string };
  /** source_cluster / destination_cluster value. Default `Kubernetes`. */
  cluster?: string;
  /** prom-client's process_* / nodejs_* metrics. Default true. */
  defaultMetrics?: boolean;
  /** This workload's SPIFFE ID (source_principal outbound, destination_principal inbound). */
  principal?: () => string | undefined;
}

export class MeshMetrics extends MeshletMetrics implements ExchangeObserver {
  readonly registry: Registry;
  readonly identity: WorkloadIdentity;
  private readonly istio: IstioMetrics;
  /** istio_tcp_* for the L4 path. */
  readonly tcp: IstioTcpMetrics;

  constructor(opts: MetricsOptions, registry: Registry = new Registry()) {
    super(registry);
    this.registry = registry;
    this.identity = Object.freeze({
      workload: opts.workload || 'unknown',
      namespace: opts.namespace || 'unknown',
      app: opts.labels?.app || 'unknown',
      version: opts.labels?.version || 'unknown',
    });
    this.istio = new IstioMetrics(registry, {
      self: this.identity,
      ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
      ...(opts.principal !== undefined ? { principal: opts.principal } : {}),
    });
    this.tcp = new IstioTcpMetrics(registry, this.identity, opts.cluster);
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  }

  onStart(ex: Exchange, upstreamHeaders: HeaderBag): void {
    this.istio.onStart(ex, upstreamHeaders);
  }

  onComplete(ex: Exchange): void {
    this.istio.onComplete(ex);
  }

  /** Disposes the per-endpoint series of an endpoint that left its cluster. */
  forgetEndpoint(dest: DestinationInfo, ep: EndpointInfo): void {
    this.istio.forgetEndpoint(dest, ep);
  }

  /** Disposes the series of a cluster that left the config. */
  /** The endpoint's address came back as a new object: its series continue under it. */
  moveEndpoint(dest: DestinationInfo, old: EndpointInfo, next: EndpointInfo): void {
    this.istio.moveEndpoint(dest, old, next);
  }

  forgetDestination(dest: DestinationInfo): void {
    this.istio.forgetDestination(dest);
  }

  /** Series in istio_requests_total right now. */
  get istioSeries(): number {
    return this.istio.seriesCount;
  }

  /** Prometheus text exposition of everything registered. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
