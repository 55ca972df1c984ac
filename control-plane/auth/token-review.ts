// Kubernetes bootstrap credential: the sidecar presents its pod's projected
// service-account token (audience `--token-audience`, default `meshlet`), and
// the API server says whose it is (TokenReview, authentication.k8s.io/v1).
// The credential is then exactly that identity: namespace and service account
// from `system:serviceaccount:<ns>:<sa>`, node id `<pod>.<ns>` from the
// token's pod binding (what the injector gives the sidecar as its node id).
// A token not bound to a pod, for another audience, or of a user that is not
// a service account, is refused. Results are cached briefly per token digest
// so rotation and reconnects do not load the API server; nothing stores the
// token itself.
import { createHash } from 'node:crypto';
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Authenticator, Credential } from './credential.js';

export const DEFAULT_TOKEN_AUDIENCE = 'meshlet';
const POD_NAME = 'authentication.kubernetes.io/pod-name';
const SA_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

export interface TokenReviewOptions {
  readonly kubeConfig: KubeConfig;
  readonly audience?: string;
  /** How long an answer is reused (default 60 s; a refusal 5 s). */
  readonly cacheMs?: number;
  readonly log: (msg: string) => void;
  readonly now?: () => number;
}

interface Cached {
  readonly credential: Credential | undefined;
  readonly until: number;
}

/** Most cached answers at once; the oldest go first (tokens are per pod, so this bounds memory, not correctness). */
const MAX_CACHED = 10_000;

export class TokenReviewAuthenticator implements Authenticator {
  readonly #api: AuthenticationV1Api;
  readonly #audience: string;
  readonly #cacheMs: number;
  readonly #log: (msg: string) => void;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();

  constructor(o: TokenReviewOptions) {
    this.#api = o.kubeConfig.makeApiClient(AuthenticationV1Api);
    this.#audience = o.audience ?? DEFAULT_TOKEN_AUDIENCE;
    this.#cacheMs = o.cacheMs ?? 60_000;
    this.#log = o.log;
    this.#now = o.now ?? Date.now;
  }

  async authenticate(token: string): Promise<Credential | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.#cache.get(key);
    if (hit !== undefined && hit.until > this.#now()) return hit.credential;
    const credential = await this.#review(token);
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(key, { credential, until: this.#now() + (credential !== undefined ? this.#cacheMs : Math.min(this.#cacheMs, 5_000)) });
    return credential;
  }

  async #review(token: string): Promise<Credential | undefined> {
    let status;
    try {
      const review = await this.#api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [this.#audience] } } });
      status = review.status;
    } catch (err) {
      // The API server is unreachable: refuse (fail closed); the sidecar retries with backoff.
      this.#log(`token review failed (refusing the caller): ${(err as Error).message}`);
      return undefined;
    }
    if (status?.authenticated !== true) return undefined;
    if (!(status.audiences ?? []).includes(this.#audience)) return undefined;
    const m = SA_USER.exec(status.user?.username ?? '');
    if (m === null) {
      this.#log(`token review: ${status.user?.username ?? '?'} is not a service account; refused`);
      return undefined;
    }
    const [, namespace, serviceAccount] = m as unknown as [string, string, string];
    const pod = status.user?.extra?.[POD_NAME]?.[0];
    if (pod === undefined || pod === '') {
      this.#log(`token review: the token of ${namespace}/${serviceAccount} is not bound to a pod (use a projected service-account token); refused`);
      return undefined;
    }
    return { nodeId: `${pod}.${namespace}`, namespace, serviceAccount, admin: false, via: `kubernetes token review (${namespace}/${serviceAccount}, pod ${pod})` };
  }
}
