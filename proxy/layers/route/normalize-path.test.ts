import { describe, expect, it } from 'vitest';
import { normalizePath, type PathNormalization } from './normalize-path.js';

describe('normalizePath', () => {
  const cases: [PathNormalization, string, string][] = [
    ['NONE', '/x/../%61dmin', '/x/../%61dmin'],
    ['BASE', '/admin', '/admin'],
    ['BASE', '/%61dmin', '/admin'],
    ['BASE', '/%41%2d%7e', '/A-~'],
    ['BASE', '/x/../admin', '/admin'],
    ['BASE', '/./admin', '/admin'],
    ['BASE', '/a/./b/../c', '/a/c'],
    ['BASE', '/../../admin', '/admin'],
    ['BASE', '/%2e%2e/admin', '/admin'],
    ['BASE', '/a/%2E/b', '/a/b'],
    ['BASE', '/a/..', '/'],
    ['BASE', '/a/b/.', '/a/b/'],
    ['BASE', '/a%2fb', '/a%2Fb'],
    ['BASE', '/a%zz%4', '/a%zz%4'],
    ['BASE', '//admin', '//admin'],
    ['BASE', '/a/.hidden/..x', '/a/.hidden/..x'],
    ['MERGE_SLASHES', '//admin', '/admin'],
    ['MERGE_SLASHES', '/a//b///c', '/a/b/c'],
    ['MERGE_SLASHES', '/a%2f/b', '/a%2F/b'],
    ['DECODE_AND_MERGE_SLASHES', '/a%2f/b', '/a/b'],
    ['DECODE_AND_MERGE_SLASHES', '/%2Fadmin', '/admin'],
    ['DECODE_AND_MERGE_SLASHES', '/a%5cb', '/a\\b'],
  ];
  it.each(cases)('%s %s → %s', (mode, path, want) => {
    expect(normalizePath(path, mode)).toBe(want);
  });

  it('returns the same string (no copy) for a path that needs nothing', () => {
    const p = '/api/v1/users/42';
    expect(normalizePath(p, 'MERGE_SLASHES')).toBe(p);
  });
});
