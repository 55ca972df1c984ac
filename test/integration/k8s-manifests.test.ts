// The install manifests without a cluster: `kubectl kustomize k8s/` builds;
// every object validates against the Kubernetes OpenAPI schemas
// (kubernetes-models); the CRDs are what `meshlet crds` prints and are
// structural; the Istio sample YAML applies to Bookinfo's Services through the
// Kubernetes-source translation; the kind scripts pass bash -n and shellcheck.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Service } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { istioCrds } from '../../control-plane/crds/index.js';
import { serviceEntriesFromKube } from '../../control-plane/sources/kubernetes/service-entries-from-kube.js';
import { mergeSources } from '../../control-plane/sources/merge-sources.js';
import { parseIstioYaml } from '../../proxy/config/index.js';
import { validateKubeObject } from '../support/kube-schema.js';
import { ROOT } from '../support/meshlet-process.js';

const K8S = join(ROOT, 'k8s');
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAS_KUBECTL = has('kubectl');
const HAS_SHELLCHECK = has('shellcheck');
if (!HAS_KUBECTL) console.warn('!!! SKIPPING `kubectl kustomize k8s/`: kubectl is not installed (apt-get install kubernetes-client)');
if (!HAS_SHELLCHECK) console.warn('!!! SKIPPING shellcheck of k8s/kind/*.sh: shellcheck is not installed (apt-get install shellcheck)');

const docs = (text: string): Record<string, unknown>[] => parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>).filter((d) => d !== null);
const file = (rel: string): Record<string, unknown>[] => docs(readFileSync(join(K8S, rel), 'utf8'));
const resources = (): string[] => (file('kustomization.yaml')[0]?.['resources'] as string[]) ?? [];
const id = (o: Record<string, unknown>): string => {
  const m = o['metadata'] as { name?: string; namespace?: string };
  return `${String(o['kind'])}/${m.namespace ?? ''}/${m.name ?? ''}`;
};

/** Kubernetes' structural-schema rules (apiextensions validation), checked node by node. */
function structuralProblems(node: unknown, path: string, out: string[]): string[] {
  if (typeof node !== 'object' || node === null) return out;
  const n = node as Record<string, unknown>;
  for (const k of ['$ref', '$schema', '$defs', 'anyOf', 'oneOf', 'allOf', 'not', 'const', 'definitions', 'default', 'format']) if (k in n) out.push(`${path}: ${k} not allowed`);
  if (n['properties'] !== undefined && n['additionalProperties'] !== undefined) out.push(`${path}: properties and additionalProperties together`);
  const open = n['x-kubernetes-preserve-unknown-fields'] === true || n['x-kubernetes-int-or-string'] === true;
  if (typeof n['type'] !== 'string' && !open) out.push(`${path}: no type`);
  if (n['type'] === 'array' && (typeof n['items'] !== 'object' || Array.isArray(n['items']))) out.push(`${path}: array without one items schema`);
  if (typeof n['exclusiveMinimum'] === 'number' || typeof n['exclusiveMaximum'] === 'number') out.push(`${path}: draft-2020 exclusive bound`);
  for (const [k, v] of Object.entries((n['properties'] as Record<string, unknown>) ?? {})) structuralProblems(v, `${path}.${k}`, out);
  if (typeof n['items'] === 'object') structuralProblems(n['items'], `${path}[]`, out);
  if (typeof n['additionalProperties'] === 'object') structuralProblems(n['additionalProperties'], `${path}{}`, out);
  return out;
}

describe('k8s/ manifests', () => {
  it('every object of the kustomization and the examples validates against the Kubernetes schemas', () => {
    const all = [...resources().flatMap(file), ...['bookinfo.yaml'].flatMap((f) => file(`examples/${f}`))];
    expect(all.length).toBeGreaterThan(20);
    for (const o of all) expect(() => validateKubeObject(o), id(o)).not.toThrow();
  });

  it('the CRDs are exactly what `meshlet crds` prints, structural, with v1 stored and v1beta1 served', () => {
    const generated = istioCrds().map((c) => stringify(c, { aliasDuplicateObjects: false })).join('---\n');
    // On failure: a zod schema changed; regenerate with `npm run build && node bin/meshlet.js crds > k8s/crds/istio-networking.yaml`.
    expect(readFileSync(join(K8S, 'crds/istio-networking.yaml'), 'utf8') === generated, 'k8s/crds/istio-networking.yaml is stale: run `npm run build && node bin/meshlet.js crds > k8s/crds/istio-networking.yaml`').toBe(true);
    for (const crd of istioCrds()) {
      const versions = (crd['spec'] as { versions: { name: string; storage: boolean; served: boolean; schema: { openAPIV3Schema: unknown } }[] }).versions;
      expect(versions.filter((v) => v.storage).map((v) => v.name)).toEqual(['v1']);
      expect(versions.every((v) => v.served)).toBe(true);
      for (const v of versions) expect(structuralProblems(v.schema.openAPIV3Schema, id(crd), [])).toEqual([]);
    }
  });

  it.skipIf(!HAS_KUBECTL)('`kubectl kustomize k8s/` builds every listed object', () => {
    const built = docs(execFileSync('kubectl', ['kustomize', K8S], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
    expect(built.map(id).sort()).toEqual(resources().flatMap(file).map(id).sort());
    for (const o of built) expect(() => validateKubeObject(o), id(o)).not.toThrow();
  });

  it("Istio's task YAML applies unchanged to Bookinfo's Services", () => {
    const services = file('examples/bookinfo.yaml').filter((o) => o['kind'] === 'Service').map((o) => ({ ...o, metadata: { ...(o['metadata'] as object), namespace: 'default' } }) as unknown as V1Service);
    const kube = serviceEntriesFromKube({ services, slices: [], pods: [] }).entries;
    const istio = ['destination-rules.yaml', 'reviews-v3.yaml', 'ratings-delay.yaml'].flatMap((f) => {
      const r = parseIstioYaml(readFileSync(join(K8S, 'examples', f), 'utf8'), f);
      expect(r.issues).toEqual([]);
      return r.resources;
    });
    const merged = mergeSources([], [...kube, ...istio], 0);
    expect(merged.issues).toEqual([]);
    const reviews = merged.config?.virtualHosts.find((v) => v.domains.includes('reviews.default.svc.cluster.local'));
    expect(reviews?.routes[0]?.action).toMatchObject({ kind: 'forward', destinations: [{ subset: 'v1', weight: 50 }, { subset: 'v3', weight: 50 }] });
  });

  it('the kind scripts pass bash -n', () => {
    for (const s of ['up.sh', 'down.sh']) expect(spawnSync('bash', ['-n', join(K8S, 'kind', s)]).status).toBe(0);
  });

  it.skipIf(!HAS_SHELLCHECK)('the kind scripts pass shellcheck', () => {
    const r = spawnSync('shellcheck', [join(K8S, 'kind', 'up.sh'), join(K8S, 'kind', 'down.sh')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
