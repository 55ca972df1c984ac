// The sidecar's workload certificate: obtained from the control plane's CA at
// start (retrying with backoff until it answers), then renewed at half its
// lifetime with a fresh key. Renewal swaps what `current()` returns; anything
// already using the old certificate (open connections) keeps it until it
// closes, so rotation drops nothing. If renewal keeps failing, the old
// certificate stays in use until it expires, and retries continue.
import { formatSpiffeId } from '../config/model/index.js';
import { Backoff } from '../xds/backoff.js';
import { generateWorkloadKey } from './workload-key.js';

export interface SignedCertificate {
  /** Leaf first, then any intermediates (PEM). */
  readonly certChain: readonly string[];
  readonly rootCert: string;
  readonly spiffeId: string;
  readonly nodeId: string;
  readonly expiresAt: string;
}

export interface IdentityCertificate {
  readonly certChainPem: string;
  readonly keyPem: string;
  readonly rootPem: string;
  readonly spiffeId: string;
  readonly nodeId: string;
  readonly issuedAt: Date;
  readonly notAfter: Date;
}

export interface WorkloadIdentityOptions {
  readonly trustDomain?: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Sends a CSR to the CA (CreateCertificate). */
  readonly sign: (csrPem: string) => Promise<SignedCertificate>;
  readonly onIssued?: (cert: IdentityCertificate) => void;
  readonly onError?: (err: Error, retryInMs: number) => void;
  readonly now?: () => number;
}

export class WorkloadIdentity {
  readonly #opts: WorkloadIdentityOptions;
  readonly #now: () => number;
  readonly #backoff = new Backoff(500, 30_000);
  #current: IdentityCertificate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #first: Promise<IdentityCertificate>;
  #resolveFirst: (c: IdentityCertificate) => void = () => undefined;
  /** Certificates obtained so far (1 = the first, more = rotations). */
  issuedCount = 0;

  constructor(opts: WorkloadIdentityOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#first = new Promise((resolve) => (this.#resolveFirst = resolve));
  }

  /** Starts obtaining the first certificate; `ready()` resolves when it is there. */
  start(): this {
    void this.#renew();
    return this;
  }

  ready(): Promise<IdentityCertificate> {
    return this.#first;
  }

  current(): IdentityCertificate | undefined {
    return this.#current;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #renew(): Promise<void> {
    if (this.#closed) return;
    const o = this.#opts;
    try {
      const requested = formatSpiffeId({ trustDomain: o.trustDomain ?? 'cluster.local', namespace: o.namespace, serviceAccount: o.serviceAccount });
      const key = await generateWorkloadKey(requested);
      const issuedAt = new Date(this.#now());
      const signed = await o.sign(key.csrPem);
      const notAfter = new Date(signed.expiresAt);
      if (!(notAfter.getTime() > issuedAt.getTime())) throw new Error(`the CA returned a certificate that expires at ${signed.expiresAt}`);
      const cert: IdentityCertificate = {
        certChainPem: signed.certChain.join('\n'),
        keyPem: key.keyPem,
        rootPem: signed.rootCert,
        spiffeId: signed.spiffeId,
        nodeId: signed.nodeId,
        issuedAt,
        notAfter,
      };
      if (this.#closed) return;
      this.#current = cert;
      this.issuedCount++;
      this.#backoff.reset();
      o.onIssued?.(cert);
      this.#resolveFirst(cert);
      // Rotate at half-life, as Istio's agent does by default.
      this.#schedule((notAfter.getTime() - issuedAt.getTime()) / 2);
    } catch (err) {
      const delay = this.#backoff.next();
      o.onError?.(err as Error, delay);
      this.#schedule(delay);
    }
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#renew(), Math.max(0, ms));
    this.#timer.unref();
  }
}
