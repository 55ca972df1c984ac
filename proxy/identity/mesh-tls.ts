// The TLS side of the workload identity: client and server contexts built
// from the current workload certificate ONCE per certificate (rotation), never
// per connection. A rotation changes what the next handshake presents; every
// connection already open keeps the certificate it was made with until it
// closes, so rotation drops nothing. The mesh root from the CA is the only
// trust anchor for mesh mTLS, both ways.
//
// Inbound termination goes through one node:tls Server that never listens:
// sockets are handed to it (`accept`) after the connection dispatcher saw a
// ClientHello. It carries the session-ticket keys (kept across rotations, so a
// resumed session survives a certificate change) and sets `authorized`.
import type { Socket } from 'node:net';
import { createSecureContext, createServer, type SecureContext, type Server, type TLSSocket } from 'node:tls';
import type { IdentityCertificate } from './workload-identity.js';

/** ALPN that marks a connection as mesh mTLS (Istio's, so Istio sidecars interoperate). */
export const MESH_ALPN = 'istio-peer-exchange';
/** What the inbound side offers, in preference order: the app protocol first, the mesh marker last. */
const SERVER_ALPN = ['h2', 'http/1.1', MESH_ALPN];

/** The workload certificate in use (rotated by WorkloadIdentity). */
export interface IdentitySource {
  current(): IdentityCertificate | undefined;
}

/** Handshake bookkeeping, read at scrape time (meshlet_tls_* series). */
export class TlsCounters {
  outboundFull = 0;
  outboundResumed = 0;
  outboundFailed = 0;
  inboundFull = 0;
  inboundResumed = 0;
  inboundFailed = 0;
  /** Plaintext (or non-mesh TLS) connections refused by a STRICT PeerAuthentication. */
  plaintextRefused = 0;
}

export class MeshTls {
  readonly counters = new TlsCounters();
  readonly #source: IdentitySource;
  #cert: IdentityCertificate | undefined;
  #client: SecureContext | undefined;
  #server: Server | undefined;
  #serverCert: IdentityCertificate | undefined;
  /** Raw socket → what to do with its terminated TLS socket (one entry per handshake in progress). */
  readonly #pending = new WeakMap<Socket, (s: TLSSocket) => void>();
  #handshakeTimeoutMs: number;

  constructor(source: IdentitySource, handshakeTimeoutMs = 10_000) {
    this.#source = source;
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
  }

  /** The certificate now in use, undefined before the CA first answered. */
  current(): IdentityCertificate | undefined {
    return this.#source.current();
  }

  /** Client context for the current certificate (built once per certificate). */
  clientContext(): SecureContext | undefined {
    const cert = this.#source.current();
    if (cert === undefined) return undefined;
    if (cert !== this.#cert) {
      this.#client = createSecureContext({ key: cert.keyPem, cert: cert.certChainPem, ca: cert.rootPem, minVersion: 'TLSv1.2' });
      this.#cert = cert;
    }
    return this.#client;
  }

  /** `spiffe://<td>/` of this workload's certificate: what an unlisted mesh peer must be under. */
  trustDomainPrefix(): string | undefined {
    const id = this.#source.current()?.spiffeId;
    if (id === undefined) return undefined;
    const end = id.indexOf('/', 'spiffe://'.length);
    return end < 0 ? undefined : id.slice(0, end + 1);
  }

  /**
   * Terminates mesh mTLS on `socket` (its ClientHello unread or pushed back):
   * the peer must present a certificate chaining to the mesh root, and
   * `secured` gets the decrypted socket. Returns false when there is no
   * workload certificate yet (the caller refuses the connection).
   */
  accept(socket: Socket, secured: (s: TLSSocket) => void): boolean {
    const server = this.#serverFor();
    if (server === undefined) return false;
    this.#pending.set(socket, secured);
    server.emit('connection', socket);
    return true;
  }

  #serverFor(): Server | undefined {
    const cert = this.#source.current();
    if (cert === undefined) return undefined;
    if (this.#server === undefined) {
      const server = createServer({
        key: cert.keyPem,
        cert: cert.certChainPem,
        ca: cert.rootPem,
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: SERVER_ALPN,
        minVersion: 'TLSv1.2',
        handshakeTimeout: this.#handshakeTimeoutMs,
      });
      server.on('secureConnection', (s: TLSSocket) => {
        if (s.isSessionReused()) this.counters.inboundResumed++;
        else this.counters.inboundFull++;
        // node:tls keeps the wrapped socket as `_parent` (not in its typings): the key to our continuation.
        const raw = (s as TLSSocket & { _parent?: Socket })._parent;
        const next = raw === undefined ? undefined : this.#pending.get(raw);
        if (next === undefined) return void s.destroy();
        this.#pending.delete(raw!);
        next(s);
      });
      // A bad or missing client certificate, a stalled handshake: that connection only.
      server.on('tlsClientError', (_err: Error, s: TLSSocket) => {
        this.counters.inboundFailed++;
        s.destroy();
      });
      this.#server = server;
      this.#serverCert = cert;
    } else if (cert !== this.#serverCert) {
      // Rotation: new handshakes present the new certificate; ticket keys stay, so sessions still resume.
      const keys = this.#server.getTicketKeys();
      this.#server.setSecureContext({ key: cert.keyPem, cert: cert.certChainPem, ca: cert.rootPem, minVersion: 'TLSv1.2' });
      this.#server.setTicketKeys(keys);
      this.#serverCert = cert;
    }
    return this.#server;
  }
}
