// Turns the security flags into what the gRPC server runs with: the CA (from
// --ca-dir or --ca-cert/--ca-key), the authenticators (bootstrap tokens; the
// Kubernetes TokenReview one joins the chain the same way), and the serving
// certificate the CA issues for the control plane's own names and addresses.
import { hostname, networkInterfaces } from 'node:os';
import { formatSpiffeId } from '../../proxy/config/model/index.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadOrCreateCaDir, loadProvidedCa, type CertificateAuthority } from '../ca/index.js';
import { BootstrapTokens } from './bootstrap-tokens.js';
import { AuthenticatorChain, type Authenticator } from './credential.js';

export interface SecureOptions {
  readonly insecure?: false;
  /** Self-generated root kept here (created on first start). */
  readonly caDir?: string;
  /** User-provided signing certificate (+ chain) and key; wins over caDir. */
  readonly caCertFile?: string;
  readonly caKeyFile?: string;
  /** Default `cluster.local`. */
  readonly trustDomain?: string;
  /** Workload certificate lifetime (default 24 h). */
  readonly certTtlMs?: number;
  /** YAML list of {token, nodeId, namespace, serviceAccount}. */
  readonly bootstrapTokensFile?: string;
  /** More authenticators, tried after the bootstrap tokens (e.g. Kubernetes TokenReview). */
  readonly authenticators?: readonly Authenticator[];
  /** Extra DNS names / IPs for the serving certificate. */
  readonly serverNames?: readonly string[];
  /**
   * Kubernetes mode (set by the composition root with --kubernetes): sidecars
   * authenticate with projected service-account tokens (TokenReview), and
   * without --ca-dir/--ca-cert the CA lives in the Secret `caSecret`.
   */
  readonly kubeConfig?: KubeConfig;
  /** Audience the sidecars' tokens must carry (default `meshlet`). */
  readonly tokenAudience?: string;
  /** `namespace/name` of the CA Secret (default `meshlet-system/meshlet-ca`). */
  readonly caSecret?: string;
}

export const DEFAULT_CA_SECRET = 'meshlet-system/meshlet-ca';

export type ControlPlaneSecurity = { readonly insecure: true } | SecureOptions;

export interface LoadedSecurity {
  readonly ca: CertificateAuthority;
  readonly trustDomain: string;
  readonly certTtlMs: number;
  readonly authenticator: Authenticator;
  readonly serving: { readonly cert: Buffer; readonly key: Buffer };
  /** Bootstrap credentials known (0 = nobody can authenticate yet: warned). */
  readonly credentials: number;
}

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';
export const DEFAULT_CERT_TTL_MS = 24 * 3600 * 1000;
const SERVING_TTL_MS = 365 * 24 * 3600 * 1000;

/** Names a sidecar may use to reach the control plane: its Kubernetes Service names, this host, every local address. */
function servingNames(grpcHost: string, extra: readonly string[]): string[] {
  const names = new Set<string>(['localhost', hostname(), '127.0.0.1', '::1', 'meshlet-control-plane', 'meshlet-control-plane.meshlet-system', 'meshlet-control-plane.meshlet-system.svc', 'meshlet-control-plane.meshlet-system.svc.cluster.local']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address.replace(/%.*$/, ''));
  if (grpcHost !== '0.0.0.0' && grpcHost !== '::' && grpcHost !== '') names.add(grpcHost);
  for (const n of extra) names.add(n);
  return [...names];
}

export async function loadSecurity(opts: SecureOptions, grpcHost: string, log: (msg: string) => void): Promise<LoadedSecurity> {
  const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const certTtlMs = opts.certTtlMs ?? DEFAULT_CERT_TTL_MS;
  if (!(certTtlMs >= 1000)) throw new Error(`cert TTL must be at least 1s, got ${certTtlMs} ms`);
  let ca: CertificateAuthority;
  if (opts.caCertFile !== undefined || opts.caKeyFile !== undefined) {
    if (opts.caCertFile === undefined || opts.caKeyFile === undefined) throw new Error('--ca-cert and --ca-key go together');
    ca = await loadProvidedCa(opts.caCertFile, opts.caKeyFile);
  } else if (opts.caDir !== undefined) {
    ca = await loadOrCreateCaDir(opts.caDir, trustDomain, log);
  } else if (opts.kubeConfig !== undefined) {
    const ref = opts.caSecret ?? DEFAULT_CA_SECRET;
    const [namespace, name, extra] = ref.split('/');
    if (!namespace || !name || extra !== undefined) throw new Error(`--ca-secret must be NAMESPACE/NAME, got "${ref}"`);
    // Loaded on demand: the Kubernetes client is slow to import and only this mode needs it.
    const { loadOrCreateCaSecret } = await import('../ca/ca-secret.js');
    ca = await loadOrCreateCaSecret({ kubeConfig: opts.kubeConfig, namespace, name, trustDomain, log });
  } else {
    throw new Error('the control plane is a CA: give --ca-dir DIR (a root is created there on first start) or --ca-cert/--ca-key; or --insecure for plaintext without authentication');
  }
  const list: Authenticator[] = [];
  let credentials = 0;
  if (opts.bootstrapTokensFile !== undefined) {
    const tokens = await BootstrapTokens.load(opts.bootstrapTokensFile);
    credentials = tokens.size;
    list.push(tokens);
  }
  list.push(...(opts.authenticators ?? []));
  if (opts.kubeConfig !== undefined) {
    const { TokenReviewAuthenticator } = await import('./token-review.js');
    list.push(new TokenReviewAuthenticator({ kubeConfig: opts.kubeConfig, ...(opts.tokenAudience !== undefined ? { audience: opts.tokenAudience } : {}), log }));
    log(`sidecars authenticate with projected service-account tokens (TokenReview, audience ${opts.tokenAudience ?? 'meshlet'})`);
  }
  if (list.length === 0) log('warning: no credentials configured (--bootstrap-tokens): every sidecar will be refused');
  const serving = await ca.issueServing(servingNames(grpcHost, opts.serverNames ?? []), formatSpiffeId({ trustDomain, namespace: 'meshlet-system', serviceAccount: 'meshlet-control-plane' }), SERVING_TTL_MS);
  return {
    ca,
    trustDomain,
    certTtlMs,
    authenticator: new AuthenticatorChain(list),
    serving: { cert: Buffer.from(serving.certChainPem), key: Buffer.from(serving.keyPem) },
    credentials: credentials + (opts.authenticators?.length ?? 0) + (opts.kubeConfig !== undefined ? 1 : 0),
  };
}
