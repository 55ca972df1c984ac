// Who may call what on the control plane. With security on, every call must
// carry a bearer credential an authenticator recognises; a config stream may
// only subscribe as the node id and namespace that credential allows; the
// admin RPCs (status, node config: they reveal the whole mesh) need an admin
// credential or a loopback caller. With --insecure every call is let through.
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServerErrorResponse } from '@grpc/grpc-js';
import { bearerToken, type Authenticator, type Credential } from '../auth/index.js';

/** A denial as grpc-js wants it on `callback(err)` / `call.emit('error', err)`. */
export type CallDenial = Partial<ServerErrorResponse> & { code: GrpcStatus; details: string };

export type Admission = { readonly ok: true; readonly credential: Credential | undefined } | { readonly ok: false; readonly denial: CallDenial };

export interface GuardedCall {
  readonly metadata: Metadata;
  getPeer(): string;
}

const deny = (code: GrpcStatus, details: string): Admission => ({ ok: false, denial: { code, details } });

/** `127.0.0.1:5000`, `::1:5000`, `::ffff:127.0.0.1:5000` → loopback. */
export function isLoopbackPeer(peer: string): boolean {
  const colon = peer.lastIndexOf(':');
  const host = (colon > 0 ? peer.slice(0, colon) : peer).replace(/^\[|\]$/g, '');
  return host === '::1' || host.startsWith('127.') || host.startsWith('::ffff:127.');
}

export class CallGuard {
  readonly #auth: Authenticator | undefined;

  /** `auth` undefined = insecure mode: everything is allowed. */
  constructor(auth: Authenticator | undefined) {
    this.#auth = auth;
  }

  get secure(): boolean {
    return this.#auth !== undefined;
  }

  /** Authenticates the caller of any RPC. */
  async admit(call: GuardedCall): Promise<Admission> {
    if (this.#auth === undefined) return { ok: true, credential: undefined };
    const token = bearerToken(call.metadata);
    if (token === undefined) return deny(GrpcStatus.UNAUTHENTICATED, 'no credential: send "authorization: Bearer <token>" (meshlet proxy --token-file)');
    let credential: Credential | undefined;
    try {
      credential = await this.#auth.authenticate(token);
    } catch (err) {
      return deny(GrpcStatus.UNAVAILABLE, `cannot check the credential now: ${(err as Error).message}`);
    }
    if (credential === undefined) return deny(GrpcStatus.UNAUTHENTICATED, 'credential not recognised');
    return { ok: true, credential };
  }

  /** The admin RPCs: an admin credential, or a caller on the control plane's own host. */
  async admitAdmin(call: GuardedCall): Promise<Admission> {
    if (this.#auth === undefined || isLoopbackPeer(call.getPeer())) return { ok: true, credential: undefined };
    const a = await this.admit(call);
    if (!a.ok) return a;
    if (!a.credential?.admin) return deny(GrpcStatus.PERMISSION_DENIED, 'admin RPCs need an admin credential (admin: true in --bootstrap-tokens) or a loopback caller');
    return a;
  }

  /** Whether `credential` may subscribe as this node; undefined = yes, else the denial. */
  checkSubscribe(credential: Credential | undefined, nodeId: string, namespace: string): CallDenial | undefined {
    if (this.#auth === undefined || credential === undefined) return undefined;
    if (nodeId !== credential.nodeId) {
      return { code: GrpcStatus.PERMISSION_DENIED, details: `this credential may subscribe only as node "${credential.nodeId}", not "${nodeId}"` };
    }
    if (namespace !== credential.namespace) {
      return { code: GrpcStatus.PERMISSION_DENIED, details: `this credential belongs to namespace "${credential.namespace}", not "${namespace}"` };
    }
    return undefined;
  }
}
