import { describe, expect, it } from 'vitest';
import { parseIstioYaml } from '../../proxy/config/index.js';
import { mergeSources } from './merge-sources.js';

const yaml = (text: string, file?: string) => parseIstioYaml(text, file).resources;
const SE = (name: string, host: string, port = 9080) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec: { hosts: [${host}], resolution: STATIC, ports: [{ number: ${port}, name: http }], endpoints: [{ address: 10.0.0.1 }] }
---
`;
const VS = (name: string, host: string, dest: string, timeout = '1s') => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec: { hosts: [${host}], http: [{ timeout: ${timeout}, route: [{ destination: { host: ${dest} } }] }] }
---
`;

describe('mergeSources', () => {
  it('leaves out what the translation refuses and applies the rest', () => {
    const kube = yaml(SE('a', 'a') + VS('a', 'a', 'a') + VS('bad', 'b', 'nowhere'));
    const r = mergeSources([], kube, 0);
    expect(r.config?.virtualHosts.flatMap((v) => v.domains)).toEqual(['a.default.svc.cluster.local']);
    expect(r.issues.map((i) => i.resource)).toEqual(['VirtualService/default/bad']);
  });

  it('lets a file win over a Kubernetes object of the same name, with a warning', () => {
    const files = yaml(SE('a', 'a') + VS('a', 'a', 'a', '5s'), 'routes.yaml');
    const kube = yaml(VS('a', 'a', 'a', '1s'));
    const r = mergeSources(files, kube, 0);
    expect(r.config?.virtualHosts[0]?.routes[0]?.timeoutMs).toBe(5000);
    expect(r.issues[0]?.reason).toMatch(/warning: also defined in file routes.yaml; the file wins/);
  });

  it('lets a declared ServiceEntry win over the entry synthesized from a Service with the same host', () => {
    const kube = yaml(SE('kubernetes-service.a', 'a.default.svc.cluster.local', 80) + SE('mine', 'a', 9080));
    const r = mergeSources([], kube, 0);
    expect(r.config?.clusters.map((c) => c.port)).toEqual([9080]);
    expect(r.issues[0]?.resource).toBe('Service/default/a');
  });
});
