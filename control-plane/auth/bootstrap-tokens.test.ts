import { describe, expect, it } from 'vitest';
import { isLoopbackPeer } from '../server/call-guard.js';
import { bearerToken, BootstrapTokens } from './index.js';

const good = { token: 'a-long-enough-token-123', nodeId: 'reviews-1', namespace: 'default', serviceAccount: 'bookinfo-reviews' };

describe('bootstrap tokens', () => {
  it('maps a token to exactly its credential and nothing else', async () => {
    const t = BootstrapTokens.from([good, { ...good, token: 'another-long-token-4567', nodeId: 'op', admin: true }]);
    expect(await t.authenticate(good.token)).toEqual({ nodeId: 'reviews-1', namespace: 'default', serviceAccount: 'bookinfo-reviews', admin: false, via: 'bootstrap-token' });
    expect((await t.authenticate('another-long-token-4567'))?.admin).toBe(true);
    expect(await t.authenticate('a-long-enough-token-12')).toBeUndefined();
    expect(await t.authenticate('')).toBeUndefined();
  });

  it('reports every bad entry with its index and field', () => {
    const bad = [good, { ...good, token: 'short' }, { ...good, token: 'yet-another-long-token', namespace: 'Not_A_Label' }, { ...good, token: 'third-long-token-abcdef', extra: 1 }];
    expect(() => BootstrapTokens.from(bad, 'tokens.yaml')).toThrow(/tokens.yaml: \[1.token\]: token must be at least 16[\s\S]*\[2.namespace\]: namespace must be a DNS label[\s\S]*\[3\]/);
    expect(() => BootstrapTokens.from([good, good], 'tokens.yaml')).toThrow(/\[1.token\]: the same token appears twice/);
    expect(() => BootstrapTokens.from({ not: 'a list' }, 'tokens.yaml')).toThrow(/tokens.yaml/);
  });

  it('reads the bearer token from metadata', () => {
    const md = (v: unknown[]) => ({ get: () => v });
    expect(bearerToken(md(['Bearer abc']))).toBe('abc');
    expect(bearerToken(md(['bearer  abc ']))).toBe('abc');
    expect(bearerToken(md(['Basic abc']))).toBeUndefined();
    expect(bearerToken(md([]))).toBeUndefined();
  });

  it('knows loopback peers', () => {
    for (const p of ['127.0.0.1:5000', '127.8.9.1:1', '::1:443', '[::1]:80', '::ffff:127.0.0.1:9']) expect(isLoopbackPeer(p), p).toBe(true);
    for (const p of ['10.0.0.1:5000', '::ffff:10.0.0.1:9', 'unknown', '1270.0.0.1:1']) expect(isLoopbackPeer(p), p).toBe(false);
  });
});
