// Reads a bookinfo service's settings from argv/env once, at start, so the
// request path only touches plain fields.
import { hostname } from 'node:os';
import { readProxyEnv, useProxy } from './proxy-env.js';

export type BookinfoRole = 'productpage' | 'reviews' | 'ratings' | 'details';
const ROLES: readonly BookinfoRole[] = ['productpage', 'reviews', 'ratings', 'details'];

export interface PeerCall {
  /** Field of the JSON answer that carries this peer's reply. */
  readonly field: string;
  /** Plain URL the app dials, e.g. http://reviews:9080/reviews/0. */
  readonly url: URL;
  /** Explicit mode: the forward proxy (HTTP_PROXY, unless NO_PROXY exempts the host) that gets an absolute-form request. */
  readonly proxy: URL | null;
}

export interface BookinfoConfig {
  readonly role: BookinfoRole;
  readonly version: string;
  readonly pod: string;
  readonly port: number;
  readonly host: string;
  /** Peers called for each request, in parallel. */
  readonly peers: readonly PeerCall[];
  /** Probability in [0,1] that a request is answered with failStatus. */
  readonly failRate: number;
  readonly failStatus: number;
  /** Added before answering (after calling peers). */
  readonly delayMs: number;
  /** Per-peer-call timeout. */
  readonly callTimeoutMs: number;
  /** When a peer call fails: false = answer 200 with the error inside (bookinfo's way), true = 502. */
  readonly propagateErrors: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;

function num(env: Env, key: string, dflt: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new RangeError(`${key}=${raw}: expected a number in [${min}, ${max}]`);
  return v;
}

function peerUrl(env: Env, key: string, dflt: string): URL {
  const raw = env[key];
  try {
    return new URL(raw === undefined || raw === '' ? dflt : raw);
  } catch {
    throw new RangeError(`${key}=${raw ?? ''}: not a URL`);
  }
}

/**
 * Role comes from argv[0] (e.g. `service.js reviews`) or env ROLE. Throws
 * RangeError with the offending variable on bad input.
 */
export function readServiceConfig(argv: readonly string[], env: Env): BookinfoConfig {
  const roleRaw = argv[0] ?? env['ROLE'] ?? '';
  const role = ROLES.find((r) => r === roleRaw);
  if (role === undefined) throw new RangeError(`role "${roleRaw}": expected one of ${ROLES.join(', ')} (argv[0] or ROLE)`);
  const version = env['VERSION'] || 'v1';
  if (role === 'reviews' && version !== 'v1' && version !== 'v2' && version !== 'v3') {
    throw new RangeError(`VERSION=${version}: reviews is v1, v2 or v3`);
  }
  const proxyEnv = readProxyEnv(env);
  const peer = (field: string, key: string, dflt: string): PeerCall => {
    const url = peerUrl(env, key, dflt);
    return { field, url, proxy: useProxy(proxyEnv, url) ? proxyEnv.proxy : null };
  };
  const peers: PeerCall[] = [];
  if (role === 'productpage') {
    peers.push(peer('details', 'DETAILS_URL', 'http://details:9080/details/0'));
    peers.push(peer('reviews', 'REVIEWS_URL', 'http://reviews:9080/reviews/0'));
  } else if (role === 'reviews' && version !== 'v1') {
    peers.push(peer('ratings', 'RATINGS_URL', 'http://ratings:9080/ratings/0'));
  }
  return {
    role,
    version,
    // Kubernetes sets HOSTNAME to the pod name; network namespaces share the
    // machine's hostname, so the rig passes POD_NAME.
    pod: env['POD_NAME'] || env['HOSTNAME'] || hostname(),
    port: num(env, 'PORT', 9080, 0, 65535),
    host: env['HOST'] || '0.0.0.0',
    peers,
    failRate: num(env, 'FAIL_RATE', 0, 0, 1),
    failStatus: num(env, 'FAIL_STATUS', 503, 200, 599),
    delayMs: num(env, 'DELAY_MS', 0, 0, 600_000),
    callTimeoutMs: num(env, 'CALL_TIMEOUT_MS', 3000, 1, 600_000),
    propagateErrors: env['PROPAGATE_ERRORS'] === '1' || env['PROPAGATE_ERRORS'] === 'true',
  };
}
