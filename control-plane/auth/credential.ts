// What an authenticated caller may be: one node id with one workload identity
// (and, for operators, the admin RPCs). Authenticators turn a bearer token into
// a Credential: bootstrap tokens here; Kubernetes TokenReview plugs in the same way.

/** The part of a gRPC Metadata this module reads (it stays free of grpc-js). */
export interface MetadataReader {
  get(key: string): readonly unknown[];
}

export interface Credential {
  readonly nodeId: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** May call GetStatus / GetNodeConfig. */
  readonly admin: boolean;
  /** Which authenticator vouched for it (for logs). */
  readonly via: string;
}

export interface Authenticator {
  authenticate(token: string): Promise<Credential | undefined>;
}

/** The bearer token of a call (`authorization: Bearer …`), or undefined. */
export function bearerToken(md: MetadataReader): string | undefined {
  const v = md.get('authorization')[0];
  if (typeof v !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(v.trim());
  return m?.[1];
}

/** The first authenticator that recognises the token wins. */
export class AuthenticatorChain implements Authenticator {
  readonly #list: readonly Authenticator[];
  constructor(list: readonly Authenticator[]) {
    this.#list = list;
  }
  async authenticate(token: string): Promise<Credential | undefined> {
    for (const a of this.#list) {
      const c = await a.authenticate(token);
      if (c !== undefined) return c;
    }
    return undefined;
  }
}
