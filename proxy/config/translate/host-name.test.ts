import { describe, expect, it } from 'vitest';
import { normaliseHost } from './host-name.js';

describe('normaliseHost', () => {
  const cases: [string, string, string][] = [
    ['reviews', 'default', 'reviews.default.svc.cluster.local'],
    ['reviews', 'shop', 'reviews.shop.svc.cluster.local'],
    ['Reviews', 'shop', 'reviews.shop.svc.cluster.local'],
    ['reviews.other', 'shop', 'reviews.other.svc.cluster.local'],
    ['reviews.other.svc', 'shop', 'reviews.other.svc.cluster.local'],
    ['reviews.other.svc.cluster.local', 'shop', 'reviews.other.svc.cluster.local'],
    ['api.example.com', 'shop', 'api.example.com'],
    ['a.b.c', 'shop', 'a.b.c'],
    ['*.example.com', 'shop', '*.example.com'],
    ['*', 'shop', '*'],
    ['10.0.0.1', 'shop', '10.0.0.1'],
  ];
  it.each(cases)('%s in %s → %s', (host, ns, want) => {
    expect(normaliseHost(host, ns)).toBe(want);
  });
});
