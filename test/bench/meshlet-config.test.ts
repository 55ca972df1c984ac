import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { meshletConfigYaml } from './meshlet-config.js';

describe('meshletConfigYaml', () => {
  const cases = [
    { name: 'default', opts: { upstreamPort: 1234 }, kinds: ['ServiceEntry'] },
    { name: 'all features', opts: { upstreamPort: 1234, mirrorPort: 5678, mirrorPercent: 10 }, kinds: ['ServiceEntry', 'ServiceEntry', 'VirtualService', 'DestinationRule'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const docs = parseAllDocuments(meshletConfigYaml(c.opts)).map((d) => d.toJS() as { kind: string; spec: Record<string, unknown> });
      expect(docs.map((d) => d.kind)).toEqual(c.kinds);
      expect(JSON.stringify(docs[0]?.spec)).toContain('"http":1234');
      if (c.opts.mirrorPort !== undefined) {
        expect(JSON.stringify(docs[1]?.spec)).toContain('"http":5678');
        expect(JSON.stringify(docs[2]?.spec)).toContain('"mirrorPercentage":{"value":10}');
      }
    });
  }
});
