// How one cluster's connections are secured, built once per config (never per
// connection): mesh mTLS with the workload certificate (ISTIO_MUTUAL, or
// automatic for endpoints that run a sidecar), TLS or mutual TLS with files
// given by a DestinationRule (SIMPLE / MUTUAL), or plaintext. Used by every
// upstream protocol: HTTP/1.1 (undici's connector), HTTP/2 sessions and TCP.
//
// Peer verification for mesh mTLS: the chain must end at the mesh root (the
// secure context's only CA), and the certificate's SPIFFE ID must be one of
// the destination's accounts (DestinationRule subjectAltNames, else the
// cluster's peerIdentities, else any identity in our trust domain).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import { endpointRunsSidecar, type ClusterModel, type EndpointModel, type UpstreamTlsPolicy } from '../config/model/index.js';
import { MESH_ALPN, type MeshTls } from '../identity/mesh-tls.js';

export type WireProtocol = 'http1' | 'http2' | 'tcp';

/** Per endpoint: the last session, for resumption (only with the context it came from). */
export interface SessionSlot {
  context: SecureContext | undefined;
  session: Buffer | undefined;
  /**
   * The verified peer's SPIFFE ID (its certificate's first spiffe:// URI SAN),
   * from the endpoint's latest handshake: the source side's destination_principal.
   */
  peer: string | undefined;
}

/**
 * The peer's certificate names the wrong identity. Not Node's
 * ERR_TLS_CERT_ALTNAME_INVALID: undici fails pending requests on that code only
 * when their servername matches, and would otherwise retry the connect forever.
 */
const PEER_IDENTITY = 'MESH_ERR_TLS_PEER_IDENTITY';

/** An error whose code classifyError() reads as a connect failure (flag UF). */
class TlsOriginationError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface UpstreamTls {
  /** `ISTIO_MUTUAL` for mesh mTLS (also automatic), else the DestinationRule's mode. */
  readonly mode: 'ISTIO_MUTUAL' | 'SIMPLE' | 'MUTUAL';
  /** Starts a TLS connection; it is usable at 'secureConnect'. Throws when no certificate is available yet. */
  connect(host: string, port: number, protocol: WireProtocol, slot: SessionSlot): TLSSocket;
}

const MESH_ALPN_FOR: Readonly<Record<WireProtocol, string[]>> = { http1: [MESH_ALPN, 'http/1.1'], http2: [MESH_ALPN, 'h2'], tcp: [MESH_ALPN] };
const PLAIN_ALPN_FOR: Readonly<Record<WireProtocol, string[] | undefined>> = { http1: ['http/1.1'], http2: ['h2'], tcp: undefined };

function remember(socket: TLSSocket, slot: SessionSlot, context: SecureContext, counters: MeshTls['counters'] | undefined): void {
  socket.on('session', (s: Buffer) => {
    slot.context = context;
    slot.session = s;
  });
  let secured = false;
  socket.once('secureConnect', () => {
    secured = true;
    // Once per connection; a resumed session still carries the peer's certificate.
    if (socket.authorized) slot.peer = spiffeIdOf(socket.getPeerCertificate());
    if (counters === undefined) return;
    if (socket.isSessionReused()) counters.outboundResumed++;
    else counters.outboundFull++;
  });
  if (counters === undefined) return;
  socket.once('error', () => {
    if (!secured) counters.outboundFailed++;
  });
}

function spiffeIdOf(cert: PeerCertificate | null | undefined): string | undefined {
  if (cert === null || cert === undefined) return undefined;
  for (const s of sansOf(cert)) if (s.startsWith('spiffe://')) return s;
  return undefined;
}

/** The URI and DNS names of a certificate's subjectAltName ("URI:spiffe://…, DNS:x"). */
function sansOf(cert: PeerCertificate): string[] {
  const raw = cert.subjectaltname;
  if (typeof raw !== 'string' || raw === '') return [];
  return raw.split(', ').map((e) => e.slice(e.indexOf(':') + 1));
}

class MeshMutualTls implements UpstreamTls {
  readonly mode = 'ISTIO_MUTUAL' as const;
  readonly #mesh: MeshTls;
  readonly #sni: string | undefined;
  readonly #allowed: ReadonlySet<string>;
  readonly #check: (host: string, cert: PeerCertificate) => Error | undefined;

  constructor(mesh: MeshTls, sni: string | undefined, allowed: readonly string[]) {
    this.#mesh = mesh;
    this.#sni = sni;
    this.#allowed = new Set(allowed);
    // Runs after Node verified the chain against the mesh root; replaces the hostname check.
    this.#check = (_host, cert) => {
      const sans = sansOf(cert);
      if (this.#allowed.size > 0) {
        for (const s of sans) if (this.#allowed.has(s)) return undefined;
        return new TlsOriginationError(PEER_IDENTITY, `peer identity ${sans.join(',') || '(none)'} is not one of ${[...this.#allowed].join(', ')}`);
      }
      const td = this.#mesh.trustDomainPrefix();
      for (const s of sans) if (td !== undefined && s.startsWith(td)) return undefined;
      return new TlsOriginationError(PEER_IDENTITY, `peer identity ${sans.join(',') || '(none)'} is not in this mesh's trust domain`);
    };
  }

  connect(host: string, port: number, protocol: WireProtocol, slot: SessionSlot): TLSSocket {
    const context = this.#mesh.clientContext();
    if (context === undefined) throw new TlsOriginationError('MESH_ERR_NO_WORKLOAD_CERT', 'no workload certificate yet: cannot originate mesh mTLS');
    const socket = connect({
      host,
      port,
      secureContext: context,
      ALPNProtocols: MESH_ALPN_FOR[protocol],
      ...(this.#sni !== undefined ? { servername: this.#sni } : {}),
      checkServerIdentity: this.#check,
      session: slot.context === context ? slot.session : undefined,
    });
    socket.setNoDelay(true);
    remember(socket, slot, context, this.#mesh.counters);
    return socket;
  }
}

/** SIMPLE / MUTUAL: TLS origination with the DestinationRule's files, read once per config. */
class FileTls implements UpstreamTls {
  readonly mode: 'SIMPLE' | 'MUTUAL';
  readonly #context: SecureContext;
  readonly #servername: string | undefined;
  readonly #check: ((host: string, cert: PeerCertificate) => Error | undefined) | undefined;
  readonly #insecure: boolean;
  readonly #counters: MeshTls['counters'] | undefined;

  constructor(p: Extract<UpstreamTlsPolicy, { mode: 'SIMPLE' | 'MUTUAL' }>, clusterHost: string, counters: MeshTls['counters'] | undefined) {
    this.mode = p.mode;
    const read = (what: string, path: string): Buffer => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new Error(`DestinationRule tls.${what} ${path}: ${(err as Error).message}`);
      }
    };
    this.#context = createSecureContext({
      ...(p.caCertificates !== undefined ? { ca: read('caCertificates', p.caCertificates) } : {}),
      ...(p.mode === 'MUTUAL' && p.clientCertificate !== undefined ? { cert: read('clientCertificate', p.clientCertificate) } : {}),
      ...(p.mode === 'MUTUAL' && p.privateKey !== undefined ? { key: read('privateKey', p.privateKey) } : {}),
      minVersion: 'TLSv1.2',
    });
    // Istio/Envoy: SNI is the DestinationRule's sni, else the service host (never an IP).
    const sni = p.sni ?? (isIP(clusterHost) === 0 && !clusterHost.startsWith('*') ? clusterHost : undefined);
    this.#servername = sni;
    this.#insecure = p.insecureSkipVerify === true;
    const sans = p.subjectAltNames;
    this.#check =
      sans !== undefined
        ? (_host, cert) => {
            const got = sansOf(cert);
            return got.some((s) => sans.includes(s)) ? undefined : new TlsOriginationError(PEER_IDENTITY, `server certificate SANs ${got.join(',')} match none of ${sans.join(', ')}`);
          }
        : sni !== undefined
          ? (_host, cert) => {
              const err = checkServerIdentity(sni, cert);
              return err === undefined ? undefined : new TlsOriginationError(PEER_IDENTITY, err.message);
            }
          : undefined;
    this.#counters = counters;
  }

  connect(host: string, port: number, protocol: WireProtocol, slot: SessionSlot): TLSSocket {
    const alpn = PLAIN_ALPN_FOR[protocol];
    const socket = connect({
      host,
      port,
      secureContext: this.#context,
      ...(alpn !== undefined ? { ALPNProtocols: alpn } : {}),
      ...(this.#servername !== undefined ? { servername: this.#servername } : {}),
      rejectUnauthorized: !this.#insecure,
      ...(this.#check !== undefined ? { checkServerIdentity: this.#check } : {}),
      session: slot.context === this.#context ? slot.session : undefined,
    });
    socket.setNoDelay(true);
    remember(socket, slot, this.#context, this.#counters);
    return socket;
  }
}

/** A cluster's security, built once per cluster model; `forEndpoint` picks per endpoint. */
export class ClusterSecurity {
  readonly #explicit: UpstreamTls | undefined;
  readonly #disabled: boolean;
  readonly #auto: UpstreamTls | undefined;

  constructor(model: ClusterModel, mesh: MeshTls | undefined) {
    const tls = model.tls;
    const allowed = (tls?.mode === 'ISTIO_MUTUAL' ? tls.subjectAltNames : undefined) ?? model.peerIdentities ?? [];
    this.#disabled = tls?.mode === 'DISABLE';
    if (tls === undefined || tls.mode === 'DISABLE') this.#explicit = undefined;
    else if (tls.mode === 'ISTIO_MUTUAL') this.#explicit = mesh !== undefined ? new MeshMutualTls(mesh, tls.sni, allowed) : new NoIdentityTls();
    else this.#explicit = new FileTls(tls, model.host, mesh?.counters);
    // Automatic mTLS needs a workload certificate: without a CA (standalone, --insecure) it is off.
    this.#auto = tls === undefined && mesh !== undefined ? new MeshMutualTls(mesh, undefined, allowed) : undefined;
  }

  /** The TLS to use towards `ep`, undefined = plaintext. */
  forEndpoint(ep: EndpointModel): UpstreamTls | undefined {
    if (this.#disabled) return undefined;
    if (this.#explicit !== undefined) return this.#explicit;
    return this.#auto !== undefined && endpointRunsSidecar(ep) ? this.#auto : undefined;
  }
}

/** ISTIO_MUTUAL on a sidecar without an identity (no CA): every connection fails UF, with the reason. */
class NoIdentityTls implements UpstreamTls {
  readonly mode = 'ISTIO_MUTUAL' as const;
  connect(): TLSSocket {
    throw new TlsOriginationError('MESH_ERR_NO_WORKLOAD_CERT', 'ISTIO_MUTUAL needs a workload certificate (run the sidecar with --control-plane, --ca-cert and --token-file)');
  }
}
