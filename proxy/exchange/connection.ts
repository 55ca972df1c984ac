// Per-connection state of the L4 path, in the leaf module so the listener
// (which fills it), the pipeline (which routes by it) and observe/ (which
// records it) can all name it without importing each other.
import type { DestinationInfo, Direction, EndpointInfo } from './exchange.js';

/** What the first bytes (or the timeout) said a connection speaks. */
export type DetectedProtocol = 'http1' | 'http2' | 'tls' | 'tcp';

/** What configuration says a destination speaks; undefined = detect. */
export type DeclaredProtocol = DetectedProtocol | undefined;

export interface ConnectionInfo {
  /** Where the client meant to go: SO_ORIGINAL_DST, or the listener's own address when not redirected. */
  readonly dstAddress: string;
  readonly dstPort: number;
  /** True when iptables redirected the connection (an original destination was read). */
  readonly redirected: boolean;
  readonly srcAddress: string;
  readonly srcPort: number;
  /** Chosen protocol, set once detection ends. */
  protocol: DetectedProtocol;
  /** TLS server name from the ClientHello (tls only). */
  sni: string | null;
  /** Whether the protocol came from configuration rather than sniffing. */
  declared: boolean;
  /** The ClientHello offered ALPN `istio-peer-exchange` (mesh mTLS from another sidecar). */
  meshTls?: boolean;
  /** Inbound mesh mTLS was terminated on this connection: what follows was decrypted. */
  mtls?: boolean;
}

/** One TCP connection through the L4 path as observers see it. */
export interface TcpRecord {
  readonly direction: Direction;
  readonly conn: ConnectionInfo;
  readonly destination: DestinationInfo;
  readonly endpoint: EndpointInfo | undefined;
  readonly upstreamHost: string;
  readonly routeName: string;
  /** Bytes received from the downstream peer. */
  readonly bytesReceived: number;
  /** Bytes sent to the downstream peer. */
  readonly bytesSent: number;
  readonly startEpochMs: number;
  readonly durationMs: number;
  readonly flags: number;
  /** True once an upstream connection was made. */
  readonly connected: boolean;
}

export interface TcpObserver {
  /** The upstream connection is up. */
  onOpen(r: TcpRecord): void;
  /** Both sockets are closed (also for connections refused or failed before opening). */
  onClose(r: TcpRecord): void;
}
