import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadMeshConfig, validateMeshConfig } from './index.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/config/', import.meta.url));

describe('loadMeshConfig', () => {
  it('loads, translates and validates the examples (they must stay valid)', async () => {
    const r = await loadMeshConfig(EXAMPLES, 0);
    if (!r.ok) throw new Error(JSON.stringify(r.issues, null, 1));
    const names = r.config.virtualHosts.map((v) => v.name).sort();
    expect(names).toEqual(['default/productpage', 'default/ratings', 'default/reviews', 'details.default.svc.cluster.local']);
    expect(r.config.clusters.map((c) => c.name)).toContain('outbound|9080|v3|reviews.default.svc.cluster.local');
    expect(validateMeshConfig(JSON.parse(JSON.stringify(r.config))).ok).toBe(true);
    const again = await loadMeshConfig(EXAMPLES, 0);
    expect(again.ok && again.config.version).toBe(r.config.version);
  });

  it('reports load issues and translation issues together', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshlet-cfg-'));
    try {
      await writeFile(join(dir, 'a.yaml'), 'kind: [broken\n');
      await writeFile(
        join(dir, 'b.yaml'),
        'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: v }\nspec: { hosts: [x], http: [{ route: [{ destination: { host: x } }] }] }\n',
      );
      const r = await loadMeshConfig(dir);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.issues.map((i) => [i.file, i.resource])).toEqual([
          [join(dir, 'a.yaml'), '(document 1)'],
          [join(dir, 'b.yaml'), 'VirtualService/default/v'],
        ]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
