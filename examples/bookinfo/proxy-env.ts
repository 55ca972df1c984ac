// The standard proxy variables as curl, Go's net/http and undici read them:
// http_proxy / HTTP_PROXY (lowercase wins) name the forward proxy for http://
// URLs, and no_proxy / NO_PROXY list the hosts that are dialled directly.
// The sample app honours them so a sidecar in explicit-proxy mode (compose,
// VMs) needs nothing but the variables every HTTP client already knows.
import { isIP } from 'node:net';
import type { Env } from './service-config.js';

interface NoProxyEntry {
  /** Lower-case host or IP without brackets; '' never matches. */
  readonly host: string;
  /** Port that must match too, or 0 for any. */
  readonly port: number;
}

export interface ProxyEnv {
  /** The forward proxy, or null when none is set. */
  readonly proxy: URL | null;
  readonly noProxy: readonly NoProxyEntry[];
  /** NO_PROXY=* : nothing goes through the proxy. */
  readonly noProxyAll: boolean;
}

function pick(env: Env, lower: string, upper: string): { key: string; value: string } | null {
  const l = env[lower];
  if (l !== undefined && l !== '') return { key: lower, value: l };
  const u = env[upper];
  return u !== undefined && u !== '' ? { key: upper, value: u } : null;
}

function parseEntry(raw: string): NoProxyEntry {
  // "[::1]:80", "10.0.0.1", ".example.com", "*.example.com", "host:8080"
  let s = raw.trim().toLowerCase().replace(/^\*?\./, '');
  let port = 0;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) return { host: bracket[1] ?? '', port: Number(bracket[2] ?? 0) };
  const colon = s.lastIndexOf(':');
  if (colon > 0 && isIP(s) === 0 && /^\d+$/.test(s.slice(colon + 1))) {
    port = Number(s.slice(colon + 1));
    s = s.slice(0, colon);
  }
  return { host: s, port };
}

/** Reads the variables once; throws RangeError naming the variable when the proxy is not an http:// URL. */
export function readProxyEnv(env: Env): ProxyEnv {
  if (env['HTTP_PROXY_URL'] !== undefined && env['HTTP_PROXY_URL'] !== '') {
    // Renamed: a leftover must not silently turn explicit mode off.
    throw new RangeError('HTTP_PROXY_URL is no longer read: set the standard HTTP_PROXY (and NO_PROXY)');
  }
  const p = pick(env, 'http_proxy', 'HTTP_PROXY');
  let proxy: URL | null = null;
  if (p !== null) {
    try {
      proxy = new URL(p.value.includes('://') ? p.value : `http://${p.value}`);
    } catch {
      throw new RangeError(`${p.key}=${p.value}: not a URL`);
    }
    if (proxy.protocol !== 'http:') throw new RangeError(`${p.key}=${p.value}: only an http:// proxy is supported`);
  }
  const list = (pick(env, 'no_proxy', 'NO_PROXY')?.value ?? '').split(/[,\s]+/).filter((s) => s !== '');
  return { proxy, noProxyAll: list.includes('*'), noProxy: list.filter((s) => s !== '*').map(parseEntry) };
}

/** Whether a call to `url` goes through the proxy: curl's rule (exact host, or a subdomain of an entry; port when given). */
export function useProxy(pe: ProxyEnv, url: URL): boolean {
  if (pe.proxy === null || pe.noProxyAll || url.protocol !== 'http:') return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = Number(url.port || 80);
  for (const e of pe.noProxy) {
    if (e.host === '' || (e.port !== 0 && e.port !== port)) continue;
    if (host === e.host || (isIP(host) === 0 && host.endsWith(`.${e.host}`))) return false;
  }
  return true;
}
