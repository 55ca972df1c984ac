import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SIDECAR_V8_FLAGS } from './heap-flags.js';

describe('sidecar V8 flags', () => {
  it('the launcher shebang carries exactly the flags the bench and docs name', () => {
    const shebang = readFileSync(new URL('../bin/meshlet.js', import.meta.url), 'utf8').split('\n')[0] ?? '';
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SIDECAR_V8_FLAGS.join(' ')}`);
  });

  it('this Node accepts them (an unknown V8 flag would make the sidecar exit at start)', () => {
    const r = spawnSync(process.execPath, [...SIDECAR_V8_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok');
  });
});
