import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIstioPath } from './load-istio-path.js';

const se = (name: string): string =>
  `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: { name: ${name} }\nspec: { hosts: [${name}], ports: [{ number: 80, name: http }] }\n`;

describe('loadIstioPath', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshlet-istio-'));
    await writeFile(join(dir, 'b.yml'), se('bravo'));
    await writeFile(join(dir, 'a.yaml'), `${se('alpha')}---\n${se('alpha2')}`);
    await writeFile(join(dir, 'c.yaml'), 'kind: [oops\n');
    await writeFile(join(dir, 'notes.txt'), se('ignored'));
    await mkdir(join(dir, 'nested'));
    await writeFile(join(dir, 'nested', 'd.yaml'), se('nested'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads .yaml/.yml files of a directory sorted by name, not recursively, remembering each file', async () => {
    const r = await loadIstioPath(dir);
    expect(r.resources.map((x) => [x.metadata.name, x.file])).toEqual([
      ['alpha', join(dir, 'a.yaml')],
      ['alpha2', join(dir, 'a.yaml')],
      ['bravo', join(dir, 'b.yml')],
    ]);
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]?.file).toBe(join(dir, 'c.yaml'));
  });

  it('reads a single file', async () => {
    const r = await loadIstioPath(join(dir, 'b.yml'));
    expect(r.resources.map((x) => x.metadata.name)).toEqual(['bravo']);
  });

  it('reports a missing path as an issue instead of throwing', async () => {
    const r = await loadIstioPath(join(dir, 'missing'));
    expect(r.resources).toEqual([]);
    expect(r.issues[0]).toMatchObject({ file: join(dir, 'missing'), resource: '(file)' });
  });
});
