import { describe, expect, it } from 'vitest';
import { translate, parseIstioYaml } from '../../proxy/config/index.js';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import { isScoped, scopeConfig } from './scope-config.js';

function config(yaml: string): MeshConfig {
  const parsed = parseIstioYaml(yaml, 'test.yaml');
  expect(parsed.issues).toEqual([]);
  const t = translate(parsed.resources);
  if (!t.ok) throw new Error(JSON.stringify(t.issues));
  return t.config;
}

const se = (name: string, ns: string, exportTo?: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${ns} }
spec:
  hosts: [${name}.example.com]
  resolution: STATIC
  ports: [{ number: 80, name: http }]
  endpoints: [{ address: 192.0.2.1 }]
${exportTo !== undefined ? `  exportTo: ${exportTo}\n` : ''}---
`;

describe('scopeConfig (exportTo)', () => {
  const cases: { name: string; exportTo: string | undefined; visibleIn: string[]; hiddenIn: string[] }[] = [
    { name: 'absent = everywhere', exportTo: undefined, visibleIn: ['a', 'b', ''], hiddenIn: [] },
    { name: '"*" = everywhere', exportTo: '["*"]', visibleIn: ['a', 'b'], hiddenIn: [] },
    { name: '"." = own namespace', exportTo: '["."]', visibleIn: ['a'], hiddenIn: ['b', ''] },
    { name: 'a list of namespaces', exportTo: '[".", "b"]', visibleIn: ['a', 'b'], hiddenIn: ['c'] },
    { name: '"~" = nowhere', exportTo: '["~"]', visibleIn: [], hiddenIn: ['a', 'b'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const cfg = config(se('x', 'a', c.exportTo));
      expect(isScoped(cfg)).toBe(c.exportTo !== undefined && c.exportTo !== '["*"]');
      for (const ns of c.visibleIn) expect(scopeConfig(cfg, ns).config.clusters.map((x) => x.host), ns).toEqual(['x.example.com']);
      for (const ns of c.hiddenIn) {
        const scoped = scopeConfig(cfg, ns).config;
        expect([scoped.services.length, scoped.clusters.length, scoped.virtualHosts.length], ns).toEqual([0, 0, 0]);
      }
    });
  }

  it('refuses entries that are not namespaces, and "~" mixed with others', () => {
    const parsed = parseIstioYaml(se('x', 'a', '["Bad_NS"]') + se('y', 'a', '["~", "b"]'), 't.yaml');
    const t = translate(parsed.resources);
    expect(t.ok).toBe(false);
    expect(t.ok ? [] : t.issues.map((i) => `${i.resource} ${i.path}`)).toEqual(['ServiceEntry/a/x spec.exportTo[0]', 'ServiceEntry/a/y spec.exportTo[0]']);
  });

  it('a VirtualService not exported here leaves its host on the default route', () => {
    const cfg = config(`${se('x', 'a')}apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: x, namespace: a }
spec:
  hosts: [x.example.com]
  exportTo: ["."]
  http: [{ timeout: 3s, route: [{ destination: { host: x.example.com } }] }]
`);
    expect(scopeConfig(cfg, 'a').config.virtualHosts.map((v) => [v.name, v.routes[0]?.timeoutMs])).toEqual([['a/x', 3000]]);
    expect(scopeConfig(cfg, 'b').config.virtualHosts.map((v) => [v.name, v.routes[0]?.name])).toEqual([['x.example.com', 'default']]);
  });
});
