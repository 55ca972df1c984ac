import { describe, expect, it } from 'vitest';
import { canonicalJson, contentVersion } from './config-version.js';

describe('canonicalJson / contentVersion', () => {
  it('ignores key order and undefined fields, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } })).toBe('{"a":{"d":[2,1]},"b":1}');
    expect(contentVersion({ a: 1, b: 2 })).toBe(contentVersion({ b: 2, a: 1 }));
    expect(contentVersion([1, 2])).not.toBe(contentVersion([2, 1]));
  });
  it('is 12 lowercase hex chars', () => {
    expect(contentVersion({})).toMatch(/^[0-9a-f]{12}$/);
  });
});
