import { describe, expect, it } from 'vitest';
import { HostIndex } from './host-index.js';

const index = new HostIndex<string>(
  [
    { domains: ['reviews.default.svc.cluster.local'], value: 'reviews' },
    { domains: ['ratings.other.svc.cluster.local'], value: 'ratings-other' },
    { domains: ['httpbin.org'], value: 'httpbin' },
    { domains: ['*.example.com'], value: 'example-wild' },
    { domains: ['api.example.com'], value: 'example-api' },
    { domains: ['*.deep.example.com'], value: 'deep-wild' },
    { domains: ['::1', '10.0.0.7'], value: 'by-ip' },
    // A literal ServiceEntry host wins over the short form of a Kubernetes service.
    { domains: ['details'], value: 'details-literal' },
    { domains: ['details.default.svc.cluster.local'], value: 'details-kube' },
    { domains: ['*'], value: 'default' },
    { domains: ['*'], value: 'second-default-ignored' },
  ],
  'default',
);

describe('HostIndex.lookup', () => {
  it.each([
    ['reviews.default.svc.cluster.local', 'reviews'],
    ['reviews.default.svc.cluster.local:9080', 'reviews'],
    ['reviews.default.svc', 'reviews'],
    ['reviews.default', 'reviews'],
    ['reviews', 'reviews'],
    ['reviews:9080', 'reviews'],
    ['Reviews.Default:9080', 'reviews'],
    ['reviews.default.svc.cluster.local.', 'reviews'],
    // other namespace: needs the namespace in the name
    ['ratings.other', 'ratings-other'],
    ['ratings.other.svc:9080', 'ratings-other'],
    ['ratings', 'default'],
    ['httpbin.org', 'httpbin'],
    ['HTTPBIN.ORG:443', 'httpbin'],
    ['www.httpbin.org', 'default'],
    ['api.example.com', 'example-api'],
    ['www.example.com', 'example-wild'],
    ['a.b.example.com:8080', 'example-wild'],
    ['x.deep.example.com', 'deep-wild'],
    ['example.com', 'default'],
    ['[::1]:8080', 'by-ip'],
    ['[::1]', 'by-ip'],
    ['10.0.0.7:80', 'by-ip'],
    ['details', 'details-literal'],
    ['details.default', 'details-kube'],
    ['unknown.host', 'default'],
    ['', 'default'],
  ])('%s → %s', (host, want) => {
    expect(index.lookup(host)).toBe(want);
    expect(index.lookup(host)).toBe(want); // cached answer is the same
  });

  it('no default: unknown hosts miss (and misses are cached too)', () => {
    const ix = new HostIndex([{ domains: ['a.ns.svc.cluster.local'], value: 1 }], 'elsewhere');
    expect(ix.lookup('a')).toBeUndefined(); // short name only from its own namespace
    expect(ix.lookup('a')).toBeUndefined();
    expect(ix.lookup('a.ns')).toBe(1);
  });

  it('cache stays bounded and correct across a clear', () => {
    const ix = new HostIndex([{ domains: ['a.ns.svc.cluster.local'], value: 1 }], 'ns');
    for (let i = 0; i < 25_000; i++) expect(ix.lookup(`h${i}.test`)).toBeUndefined();
    expect(ix.lookup('a:80')).toBe(1);
    const cacheSize = (ix as unknown as { cache: Map<string, unknown> }).cache.size;
    expect(cacheSize).toBeLessThanOrEqual(10_000);
  });
});
