// Istio's standard TCP metrics (istio_tcp_connections_opened_total,
// _closed_total, istio_tcp_sent_bytes_total, _received_bytes_total) with the
// standard labels, request_protocol="tcp", and destination_service = the
// ServiceEntry host or PassthroughCluster / BlackHoleCluster. Recorded per
// connection, not per chunk: bytes are added when the connection closes.
// Inbound TCP has no peer metadata (no HTTP header to carry it), so its
// source_* labels are `unknown`, as in Istio without mTLS.
import type { Registry } from 'prom-client';
import { flagsToString } from '../errors/index.js';
import type { TcpObserver, TcpRecord } from '../exchange/index.js';
import { BoundCounter, type CounterSeries } from './bound-metrics.js';
import { ISTIO_LABELS } from './istio-metrics.js';
import { UNKNOWN_PEER, type WorkloadIdentity } from './peer.js';

const TCP_LABELS = ISTIO_LABELS.filter((l) => l !== 'response_code');

interface TcpSeries {
  readonly opened: CounterSeries;
  readonly closed: CounterSeries;
  readonly sent: CounterSeries;
  readonly received: CounterSeries;
}

const orUnknown = (s: string | undefined): string => (s === undefined || s === '' ? 'unknown' : s);

export class IstioTcpMetrics implements TcpObserver {
  readonly #opened: BoundCounter;
  readonly #closed: BoundCounter;
  readonly #sent: BoundCounter;
  readonly #received: BoundCounter;
  readonly #self: WorkloadIdentity;
  readonly #cluster: string;
  /** Series found at open, kept for close (keyed by the record, which lives as long as the connection). */
  readonly #live = new WeakMap<TcpRecord, TcpSeries>();

  constructor(registry: Registry, self: WorkloadIdentity, cluster = 'Kubernetes') {
    this.#self = self;
    this.#cluster = cluster;
    this.#opened = new BoundCounter('istio_tcp_connections_opened_total', 'TCP connections opened (Istio standard)', TCP_LABELS, registry);
    this.#closed = new BoundCounter('istio_tcp_connections_closed_total', 'TCP connections closed (Istio standard)', TCP_LABELS, registry);
    this.#sent = new BoundCounter('istio_tcp_sent_bytes_total', 'Bytes sent to the downstream during TCP connections (Istio standard)', TCP_LABELS, registry);
    this.#received = new BoundCounter('istio_tcp_received_bytes_total', 'Bytes received from the downstream during TCP connections (Istio standard)', TCP_LABELS, registry);
  }

  onOpen(r: TcpRecord): void {
    const s = this.#series(r);
    this.#live.set(r, s);
    s.opened.inc();
  }

  onClose(r: TcpRecord): void {
    // A refused or failed connection never opened: it is counted (with its flags) only here.
    const s = this.#live.get(r) ?? this.#series(r);
    s.closed.inc();
    s.sent.inc(r.bytesSent);
    s.received.inc(r.bytesReceived);
  }

  #series(r: TcpRecord): TcpSeries {
    const outbound = r.direction === 'outbound';
    const dest = r.destination;
    const ep = r.endpoint;
    const src = outbound ? this.#self : UNKNOWN_PEER;
    const dst: WorkloadIdentity = outbound
      ? { workload: orUnknown(ep?.workload), namespace: orUnknown(ep?.namespace || dest.serviceNamespace), app: orUnknown(ep?.app), version: orUnknown(ep?.version) }
      : this.#self;
    const values = [
      outbound ? 'source' : 'destination',
      src.workload,
      src.namespace,
      'unknown',
      src.app,
      src.version,
      src === UNKNOWN_PEER ? 'unknown' : this.#cluster,
      dst.workload,
      dst.namespace,
      'unknown',
      dst.app,
      dst.version,
      dest.service,
      dest.serviceName,
      dest.serviceNamespace,
      outbound && ep === undefined ? 'unknown' : this.#cluster,
      'tcp',
      flagsToString(r.flags),
      outbound ? 'unknown' : 'none',
    ];
    const key = values.join('\u0001');
    return { opened: this.#opened.bind(key, values), closed: this.#closed.bind(key, values), sent: this.#sent.bind(key, values), received: this.#received.bind(key, values) };
  }
}
