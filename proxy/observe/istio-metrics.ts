// Istio's standard HTTP metrics, with Istio's names, labels and buckets, so
// existing Istio dashboards work unchanged. The sidecar reports as `source`
// on outbound and `destination` on inbound, like Istio's two proxies per hop.
//
// Per request: two map lookups keyed by the objects the pipeline already has
// (DestinationInfo, then EndpointInfo or the raw peer header), one numeric
// key (protocol, status, flags), then four additions on pre-bound series.
// Label strings are built only when a new combination first appears.
import type { Registry } from 'prom-client';
import { sameLabels } from '../config/model/index.js';
import { flagsToString } from '../errors/index.js';
import type { DestinationInfo, EndpointInfo, Exchange, ExchangeObserver } from '../exchange/index.js';
import type { HeaderBag } from './b3.js';
import { BoundCounter, BoundHistogram, type CounterSeries, type HistogramSeries } from './bound-metrics.js';
import { PeerCache, type PeerEntry } from './peer-cache.js';
import { decodePeer, encodePeer, PEER_HEADER, peerHeaderOf, UNKNOWN_PEER, type WorkloadIdentity } from './peer.js';
import { trustedPeerKey } from './trusted-peer.js';

/** Istio's default duration buckets (ms). */
export const DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
/** Istio's default size buckets (bytes). */
export const BYTE_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];

export const ISTIO_LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'response_flags',
  // gRPC status of a gRPC exchange (trailers, trailers-only or our local reply); empty for other protocols, as in Istio.
  'grpc_response_status',
  'connection_security_policy',
] as const;

export interface IstioMetricsOptions {
  /** This proxy's workload identity. */
  self: WorkloadIdentity;
  /** Value of source_cluster / destination_cluster. Default `Kubernetes` (Istio's default cluster id). */
  cluster?: string;
  /** Max distinct peer identities tracked on inbound; the rest are `unknown`. Default 1024. */
  maxPeers?: number;
  /** This workload's SPIFFE ID (workload certificate), read when a series is first bound. */
  principal?: () => string | undefined;
}

interface StdSeries {
  /** The label-set key the four series were bound with (released together). */
  readonly key: string;
  /** Outbound: the endpoint's verified principal it was bound with (a change rebinds). */
  readonly peer: string | undefined;
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
  readonly requestBytes: HistogramSeries;
  readonly responseBytes: HistogramSeries;
  readonly requestMessages: CounterSeries;
  readonly responseMessages: CounterSeries;
}

type Level2 = Map<unknown, Map<number, StdSeries>>;

const NO_DEST: DestinationInfo = Object.freeze({ cluster: '', service: 'unknown', serviceName: 'unknown', serviceNamespace: 'unknown', subset: '' });
const NO_ENDPOINT = Object.freeze({});

function protocolIndex(p: string): number {
  return p === 'http' ? 0 : p === 'grpc' ? 1 : p === 'websocket' ? 2 : 3;
}
const PROTOCOLS = ['http', 'grpc', 'websocket', 'unknown'];
const orUnknown = (s: string | undefined): string => (s === undefined || s === '' ? 'unknown' : s);

export class IstioMetrics implements ExchangeObserver {
  private readonly requests: BoundCounter;
  private readonly duration: BoundHistogram;
  private readonly requestBytes: BoundHistogram;
  private readonly responseBytes: BoundHistogram;
  private readonly requestMessages: BoundCounter;
  private readonly responseMessages: BoundCounter;
  private readonly outbound = new WeakMap<object, Level2>();
  private readonly inbound = new WeakMap<object, Level2>();
  private readonly peers: PeerCache;
  private readonly self: WorkloadIdentity;
  private readonly cluster: string;
  private readonly maxPeers: number;
  private readonly principal: () => string | undefined;
  /** Built once: what outbound requests carry in x-meshlet-peer. */
  readonly peerHeaderValue: string;

  constructor(registry: Registry, opts: IstioMetricsOptions) {
    this.self = opts.self;
    this.cluster = opts.cluster ?? 'Kubernetes';
    this.maxPeers = opts.maxPeers ?? 1024;
    this.principal = opts.principal ?? ((): undefined => undefined);
    // Evicting a peer drops its series too, so the exposition stays bounded by maxPeers.
    this.peers = new PeerCache(this.maxPeers, (e) => {
      for (const key of e.seriesKeys) {
        this.requests.unbind(key);
        this.duration.unbind(key);
        this.requestBytes.unbind(key);
        this.responseBytes.unbind(key);
      }
    });
    this.peerHeaderValue = encodePeer(opts.self);
    this.requests = new BoundCounter('istio_requests_total', 'Requests processed by the proxy (Istio standard)', ISTIO_LABELS, registry);
    this.duration = new BoundHistogram('istio_request_duration_milliseconds', 'Request duration in ms (Istio standard)', ISTIO_LABELS, DURATION_BUCKETS_MS, registry);
    this.requestBytes = new BoundHistogram('istio_request_bytes', 'Request body size in bytes (Istio standard)', ISTIO_LABELS, BYTE_BUCKETS, registry);
    this.responseBytes = new BoundHistogram('istio_response_bytes', 'Response body size in bytes (Istio standard)', ISTIO_LABELS, BYTE_BUCKETS, registry);
    this.requestMessages = new BoundCounter('istio_request_messages_total', 'gRPC messages sent by the client (Istio standard)', ISTIO_LABELS, registry);
    this.responseMessages = new BoundCounter('istio_response_messages_total', 'gRPC messages sent by the server (Istio standard)', ISTIO_LABELS, registry);
  }

  onStart(ex: Exchange, upstreamHeaders: HeaderBag): void {
    if (ex.direction === 'outbound') upstreamHeaders[PEER_HEADER] = this.peerHeaderValue;
    else if (upstreamHeaders[PEER_HEADER] !== undefined) delete upstreamHeaders[PEER_HEADER];
  }

  onComplete(ex: Exchange): void {
    const s = this.seriesFor(ex);
    s.requests.inc();
    s.duration.observe(ex.durationMs);
    s.requestBytes.observe(ex.bytesIn);
    s.responseBytes.observe(ex.bytesOut);
    if (ex.protocol === 'grpc') {
      s.requestMessages.inc(ex.requestMessages);
      s.responseMessages.inc(ex.responseMessages);
    }
  }

  private seriesFor(ex: Exchange): StdSeries {
    const dest = ex.destination ?? NO_DEST;
    const outbound = ex.direction === 'outbound';
    const top = outbound ? this.outbound : this.inbound;
    let l2 = top.get(dest);
    if (l2 === undefined) {
      l2 = new Map();
      top.set(dest, l2);
    }
    let second: unknown;
    let peer: PeerEntry | undefined;
    if (outbound) second = ex.endpoint ?? NO_ENDPOINT;
    else {
      // The peer header counts only on a verified mTLS connection (trusted-peer.ts); '' otherwise.
      const raw = trustedPeerKey(ex.socket, peerHeaderOf(ex.req.headers));
      if (raw !== '') peer = this.peers.touch(raw);
      second = raw;
    }
    let l3 = l2.get(second);
    if (l3 === undefined) {
      l3 = new Map();
      l2.set(second, l3);
      if (peer !== undefined) peer.holders.push(l2 as Map<unknown, unknown>);
    }
    const status = ex.status >= 0 && ex.status < 1000 ? ex.status : 0;
    const proto = protocolIndex(ex.protocol);
    // Numeric key: no string building per request.
    // (flags, grpc status + 1 in 0..17, protocol, status) as one number.
    const grpc = ex.grpcStatus >= 0 && ex.grpcStatus <= 16 ? ex.grpcStatus + 1 : 0;
    const key = ((ex.flags * 18 + grpc) * 4 + proto) * 1000 + status;
    let s = l3.get(key);
    // The endpoint's verified identity changed (another workload at that address): new series.
    if (s !== undefined && outbound && s.peer !== (second as EndpointInfo).peerPrincipal) {
      this.#release(s);
      s = undefined;
    }
    if (s === undefined) {
      s = this.bind(ex, dest, outbound, second, proto, status);
      l3.set(key, s);
    }
    return s;
  }

  /**
   * An endpoint left its cluster: drop the series bound for it (a series other
   * endpoints with the same identity still use stays).
   */
  forgetEndpoint(dest: DestinationInfo, ep: EndpointInfo): void {
    const l2 = this.outbound.get(dest);
    const l3 = l2?.get(ep);
    if (l3 === undefined) return;
    l2!.delete(ep);
    for (const s of l3.values()) this.#release(s);
  }

  /**
   * The same address came back as a new endpoint object (TLS, weight or labels
   * changed): its series move to it, so counters go on instead of resetting to
   * zero under Prometheus. A label that did change (version, principal) still
   * gets its own series at the next request (bind / the principal check).
   */
  moveEndpoint(dest: DestinationInfo, old: EndpointInfo, next: EndpointInfo): void {
    const l2 = this.outbound.get(dest);
    const l3 = l2?.get(old);
    if (l3 === undefined) return;
    l2!.delete(old);
    // Series carry the endpoint's workload labels: only an unchanged identity may keep them.
    if (l2!.has(next) || !sameWorkload(old, next)) for (const s of l3.values()) this.#release(s);
    else l2!.set(next, l3);
  }

  /** A cluster left the config: everything bound under its destination goes. */
  forgetDestination(dest: DestinationInfo): void {
    const l2 = this.outbound.get(dest);
    if (l2 === undefined) return;
    this.outbound.delete(dest);
    for (const l3 of l2.values()) for (const s of l3.values()) this.#release(s);
  }

  /** Series currently exposed in istio_requests_total (for tests and benches). */
  get seriesCount(): number {
    return this.requests.size;
  }

  #release(s: StdSeries): void {
    this.requests.release(s.key);
    this.duration.release(s.key);
    this.requestBytes.release(s.key);
    this.responseBytes.release(s.key);
    this.requestMessages.release(s.key);
    this.responseMessages.release(s.key);
  }

  private peerOf(raw: string): WorkloadIdentity {
    if (raw === '') return UNKNOWN_PEER;
    return this.peers.get(raw)?.id ?? decodePeer(raw);
  }

  private bind(ex: Exchange, dest: DestinationInfo, outbound: boolean, second: unknown, proto: number, status: number): StdSeries {
    const ep = second === NO_ENDPOINT ? undefined : (second as EndpointInfo);
    const src = outbound ? this.self : this.peerOf(second as string);
    const dst: WorkloadIdentity = outbound
      ? {
          workload: orUnknown(ep === undefined ? '' : ep.workload || (ep.labels['workload'] ?? (ep.app && ep.version ? `${ep.app}-${ep.version}` : ep.app))),
          namespace: orUnknown(ep?.namespace || (dest === NO_DEST ? '' : dest.serviceNamespace)),
          app: orUnknown(ep?.app),
          version: orUnknown(ep?.version),
        }
      : this.self;
    const own = this.principal() ?? 'unknown';
    const values = [
      outbound ? 'source' : 'destination',
      src.workload,
      src.namespace,
      outbound ? own : (src.principal ?? 'unknown'),
      src.app,
      src.version,
      src === UNKNOWN_PEER ? 'unknown' : this.cluster,
      dst.workload,
      dst.namespace,
      // Source side: the SPIFFE ID the endpoint's TLS handshake verified (Istio's upstream peer principal).
      outbound ? (ep?.peerPrincipal ?? 'unknown') : own,
      dst.app,
      dst.version,
      dest.service,
      dest.serviceName,
      dest.serviceNamespace,
      outbound && ep === undefined ? 'unknown' : this.cluster,
      PROTOCOLS[proto] as string,
      String(status),
      flagsToString(ex.flags),
      ex.grpcStatus >= 0 ? String(ex.grpcStatus) : '',
      // Istio reports `unknown` from the client side; the server side knows: mutual_tls or none.
      outbound ? 'unknown' : src.principal !== undefined ? 'mutual_tls' : 'none',
    ];
    const key = values.join('\u0001');
    if (!outbound && second !== '') this.peers.get(second as string)?.seriesKeys.push(key);
    return {
      key,
      peer: outbound ? ep?.peerPrincipal : undefined,
      requests: this.requests.bind(key, values),
      duration: this.duration.bind(key, values),
      requestBytes: this.requestBytes.bind(key, values),
      responseBytes: this.responseBytes.bind(key, values),
      requestMessages: this.requestMessages.bind(key, values),
      responseMessages: this.responseMessages.bind(key, values),
    };
  }
}

/** Same labels the series are bound with (workload, namespace, app, version and the rest of the endpoint's labels). */
function sameWorkload(a: EndpointInfo, b: EndpointInfo): boolean {
  if (a.workload !== b.workload || a.namespace !== b.namespace || a.app !== b.app || a.version !== b.version) return false;
  return sameLabels(a.labels, b.labels);
}
