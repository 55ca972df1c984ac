import { describe, expect, it } from 'vitest';
import { readProxyEnv, useProxy } from './proxy-env.js';
import type { Env } from './service-config.js';

describe('readProxyEnv / useProxy (curl semantics)', () => {
  const P = 'http://127.0.0.1:15001';
  const cases: Array<{ env: Env; url: string; proxied: boolean }> = [
    { env: {}, url: 'http://reviews:9080/', proxied: false },
    { env: { HTTP_PROXY: P }, url: 'http://reviews:9080/', proxied: true },
    { env: { http_proxy: P }, url: 'http://reviews:9080/', proxied: true },
    { env: { HTTP_PROXY: P }, url: 'https://reviews/', proxied: false },
    { env: { HTTP_PROXY: P, NO_PROXY: '*' }, url: 'http://reviews:9080/', proxied: false },
    { env: { HTTP_PROXY: P, NO_PROXY: 'localhost, reviews' }, url: 'http://reviews:9080/', proxied: false },
    { env: { HTTP_PROXY: P, NO_PROXY: 'REVIEWS' }, url: 'http://Reviews:9080/', proxied: false },
    { env: { HTTP_PROXY: P, NO_PROXY: 'view' }, url: 'http://reviews:9080/', proxied: true },
    { env: { HTTP_PROXY: P, NO_PROXY: '.svc' }, url: 'http://reviews.default.svc:9080/', proxied: false },
    { env: { HTTP_PROXY: P, NO_PROXY: '*.svc' }, url: 'http://reviews.default.svc:9080/', proxied: false },
    { env: { HTTP_PROXY: P, NO_PROXY: 'svc' }, url: 'http://reviews.default.svc:9080/', proxied: false },
    { env: { HTTP_PROXY: P, NO_PROXY: 'reviews:9081' }, url: 'http://reviews:9080/', proxied: true },
    { env: { HTTP_PROXY: P, NO_PROXY: 'reviews:9080' }, url: 'http://reviews:9080/', proxied: false },
    { env: { HTTP_PROXY: P, NO_PROXY: '127.0.0.1' }, url: 'http://127.0.0.1:9080/', proxied: false },
    { env: { HTTP_PROXY: P, NO_PROXY: '0.0.1' }, url: 'http://127.0.0.1:9080/', proxied: true },
    { env: { HTTP_PROXY: P, NO_PROXY: '[::1]' }, url: 'http://[::1]:9080/', proxied: false },
    // Lower case wins, as in curl, Go and undici.
    { env: { HTTP_PROXY: P, no_proxy: 'reviews', NO_PROXY: '' }, url: 'http://reviews:9080/', proxied: false },
    { env: { HTTP_PROXY: P, no_proxy: 'details', NO_PROXY: 'reviews' }, url: 'http://reviews:9080/', proxied: true },
  ];
  it.each(cases)('$env $url → proxied $proxied', ({ env, url, proxied }) => {
    expect(useProxy(readProxyEnv(env), new URL(url))).toBe(proxied);
  });

  it('takes a bare host:port proxy, prefers http_proxy, and refuses other schemes or the old variable', () => {
    expect(readProxyEnv({ HTTP_PROXY: '127.0.0.1:15001' }).proxy?.href).toBe('http://127.0.0.1:15001/');
    expect(readProxyEnv({ http_proxy: 'http://a:1', HTTP_PROXY: 'http://b:2' }).proxy?.host).toBe('a:1');
    expect(() => readProxyEnv({ HTTP_PROXY: 'socks5://p:1080' })).toThrow(/HTTP_PROXY=socks5/);
    expect(() => readProxyEnv({ HTTP_PROXY_URL: 'http://p:1' })).toThrow(/HTTP_PROXY_URL/);
  });
});
