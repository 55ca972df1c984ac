// Per-request state, one object per downstream request. Layers read and write
// its fields; observers (metrics, access log, tracing, tap) read it once the
// exchange completes. A plain class with every field initialised in the
// constructor keeps one hidden class for V8 (no shape changes on the hot path).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export type Direction = 'outbound' | 'inbound';

/** B3 trace context as seen on the wire; ids kept as the hex strings received (64-bit stays 64-bit). */
export interface TraceContext {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  /** true / false / undefined = defer (no decision). */
  sampled: boolean | undefined;
  debug: boolean;
}

/** What observers need to know about the destination, resolved once per cluster (no per-request strings). */
export interface DestinationInfo {
  readonly cluster: string;
  /** `reviews.default.svc.cluster.local` */
  readonly service: string;
  readonly serviceName: string;
  readonly serviceNamespace: string;
  readonly subset: string;
}

/** What observers need to know about the endpoint that answered. */
export interface EndpointInfo {
  /** `10.244.0.12:9080` */
  readonly authority: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Pre-resolved identity labels (app, version, workload) for metrics. */
  readonly app: string;
  readonly version: string;
  readonly workload: string;
  readonly namespace: string;
  /** The SPIFFE ID TLS verified on the endpoint's connections (destination_principal on the source side). */
  readonly peerPrincipal?: string | undefined;
}

/**
 * The connection a request came on. For HTTP/2 it is the session's socket: the
 * compat API's `req.socket` is a per-stream view that stops pointing at the
 * connection once the stream closes (before observers run), and
 * per-connection caches (the peer's identity, XFCC) need one key per connection.
 */
function connectionSocketOf(req: IncomingMessage): Socket {
  const session = (req as IncomingMessage & { stream?: { session?: { socket: Socket } } }).stream?.session;
  return session !== undefined ? session.socket : req.socket;
}

export class Exchange {
  readonly direction: Direction;
  readonly req: IncomingMessage;
  /** The downstream connection, read while the request is live (see connectionSocketOf). */
  readonly socket: Socket;
  /** process.hrtime-free start time in ms (performance.now()). */
  readonly startMs: number;
  /** Wall clock at start, ms since epoch, for access logs. */
  readonly startEpochMs: number;
  method: string;
  path: string;
  authority: string;
  /** `http`, `grpc` or `websocket` (Istio's request_protocol). */
  protocol: string;
  requestId: string;
  routeName: string;
  destination: DestinationInfo | undefined;
  endpoint: EndpointInfo | undefined;
  status: number;
  /** gRPC status of a gRPC exchange (from headers, trailers or our local reply); -1 = none. */
  grpcStatus: number;
  /** gRPC messages each way (istio_request_messages_total / istio_response_messages_total). */
  requestMessages: number;
  responseMessages: number;
  /** Bitmask of Flag values. */
  flags: number;
  /** Upstream attempts made (1 = no retry). */
  attempts: number;
  bytesIn: number;
  bytesOut: number;
  /** ms from start to upstream response headers (0 if none). */
  upstreamHeadersMs: number;
  durationMs: number;
  trace: TraceContext | undefined;
  /** Opaque span handle owned by observe/tracing. */
  span: unknown;
  /** Reason of a local reply, for logs and tap. */
  detail: string;

  constructor(direction: Direction, req: IncomingMessage, now: number, epoch: number) {
    this.direction = direction;
    this.req = req;
    this.socket = connectionSocketOf(req);
    this.startMs = now;
    this.startEpochMs = epoch;
    this.method = req.method ?? 'GET';
    this.path = '';
    this.authority = '';
    this.protocol = 'http';
    this.requestId = '';
    this.routeName = '';
    this.destination = undefined;
    this.endpoint = undefined;
    this.status = 0;
    this.grpcStatus = -1;
    this.requestMessages = 0;
    this.responseMessages = 0;
    this.flags = 0;
    this.attempts = 0;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.upstreamHeadersMs = 0;
    this.durationMs = 0;
    this.trace = undefined;
    this.span = undefined;
    this.detail = '';
  }
}

/**
 * Observers see each exchange twice: when it starts (tracing decides and
 * injects context into the outgoing headers) and when it completes (metrics,
 * access log, span end, tap). Implementations must not throw and must not block.
 */
export interface ExchangeObserver {
  /** Called after routing, before the request goes upstream. May add headers to `upstreamHeaders`. */
  onStart(ex: Exchange, upstreamHeaders: Record<string, string | string[]>): void;
  /** Called exactly once, when the downstream response has finished or failed. */
  onComplete(ex: Exchange): void;
}
