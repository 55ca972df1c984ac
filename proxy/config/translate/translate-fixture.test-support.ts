// Test support: builds Istio resources from YAML through the real parser, so
// translation tests exercise the same path as a file load.
import { parseIstioYaml, type IstioResource } from '../istio/index.js';
import type { ClusterModel, MeshConfig, RouteModel } from '../model/index.js';
import { translate } from './translate.js';

export const NOW = 1_700_000_000_000;

export const BASE = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews]
  resolution: STATIC
  ports: [{ number: 9080, name: http, targetPort: 9999 }]
  endpoints:
    - { address: 10.0.0.1, labels: { version: v1 }, ports: { http: 19082 } }
    - { address: 10.0.0.2, labels: { version: v2 }, weight: 3 }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;

export function resources(...yaml: string[]): IstioResource[] {
  const out: IstioResource[] = [];
  yaml.forEach((text, i) => {
    const r = parseIstioYaml(text, `f${i}.yaml`);
    if (r.issues.length > 0) throw new Error(`fixture does not parse: ${JSON.stringify(r.issues)}`);
    out.push(...r.resources);
  });
  return out;
}

export function ok(...yaml: string[]): MeshConfig {
  const r = translate(resources(...yaml), NOW);
  if (!r.ok) throw new Error(`translate failed: ${JSON.stringify(r.issues, null, 1)}`);
  return r.config;
}

export function cluster(cfg: MeshConfig, name: string): ClusterModel {
  const c = cfg.clusters.find((x) => x.name === name);
  if (!c) throw new Error(`no cluster ${name} in ${cfg.clusters.map((x) => x.name).join(', ')}`);
  return c;
}

export function route(cfg: MeshConfig, vhost: string, index = 0): RouteModel {
  const vh = cfg.virtualHosts.find((v) => v.name === vhost);
  const r = vh?.routes[index];
  if (!r) throw new Error(`no route ${index} in ${vhost}`);
  return r;
}

/** A VirtualService for reviews with the given http routes (YAML flow text, indented 4). */
export function vs(http: string, annotations = '{}', name = 'reviews'): string {
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, annotations: ${annotations} }
spec:
  hosts: [reviews]
  http:
${http}
`;
}
