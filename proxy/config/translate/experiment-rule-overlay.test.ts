// DestinationRule experiment overlays: the policy under test (circuit
// breaking, outlier detection, retry budget) laid over a host's own rule for
// the experiment's lifetime, through the real parser and translation.
import { describe, expect, it } from 'vitest';
import type { MeshConfig } from '../model/index.js';
import { translate } from './translate.js';
import { NOW, resources } from './translate-fixture.test-support.js';

const HOST = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews]
  resolution: STATIC
  ports: [{ number: 9080, name: http }]
  endpoints:
    - { address: 10.0.0.1, labels: { version: v1 } }
    - { address: 10.0.0.2, labels: { version: v3 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: { simple: RANDOM }
    outlierDetection: { consecutive5xxErrors: 5, maxEjectionPercent: 50 }
  subsets:
    - { name: v1, labels: { version: v1 } }
    - name: v3
      labels: { version: v3 }
      trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
`;

const at = (ms: number): string => new Date(NOW + ms).toISOString();

function overlay(ruleSpec: string, expiresInMs = 60_000, name = 'exp'): string {
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: experiment-${name}
  annotations: { meshlet.io/experiment: ${name}, meshlet.io/experiment-expires-at: "${at(expiresInMs)}" }
spec:
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews } }] }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: experiment-${name}
  annotations: { meshlet.io/experiment: ${name}, meshlet.io/experiment-expires-at: "${at(expiresInMs)}" }
spec:
${ruleSpec}`;
}

function ok(yaml: string[], now = NOW): MeshConfig {
  const r = translate(resources(...yaml), now);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const policyOf = (c: MeshConfig, subset: string | undefined) => c.clusters.find((k) => k.host.startsWith('reviews') && k.subset === subset)!.policy;

describe('experiment DestinationRule overlay', () => {
  it('lays connectionPool, outlierDetection and retryBudget over every cluster of the host; other groups stay', () => {
    const c = ok([HOST, overlay(`  host: reviews
  trafficPolicy:
    connectionPool: { http: { http2MaxRequests: 2 } }
    outlierDetection: { consecutive5xxErrors: 0 }
    retryBudget: { percent: 100, minRetryConcurrency: 1000 }
`)]);
    for (const subset of [undefined, 'v1', 'v3']) {
      const p = policyOf(c, subset);
      expect(p.connectionPool).toEqual({ maxRequests: 2 });
      expect(p.outlierDetection?.consecutive5xxErrors).toBe(0);
      expect(p.retryBudget).toEqual({ percent: 100, minRetryConcurrency: 1000 });
    }
    expect(policyOf(c, undefined).lb.kind).toBe('random');
    expect(policyOf(c, 'v3').lb.kind).toBe('round_robin');
  });

  it('subsets[] narrows the overlay to one subset', () => {
    const c = ok([HOST, overlay(`  host: reviews
  subsets:
    - name: v3
      trafficPolicy: { outlierDetection: { consecutive5xxErrors: 2, interval: 1s } }
`)]);
    expect(policyOf(c, 'v3').outlierDetection).toMatchObject({ consecutive5xxErrors: 2, intervalMs: 1000, maxEjectionPercent: 10 });
    expect(policyOf(c, 'v1').outlierDetection).toMatchObject({ consecutive5xxErrors: 5, maxEjectionPercent: 50 });
    expect(policyOf(c, 'v3').lb.kind).toBe('round_robin');
  });

  it('after its expiry the host is back to its own rule, with the same content version as before the experiment', () => {
    const before = ok([HOST]);
    const during = ok([HOST, overlay('  host: reviews\n  trafficPolicy: { retryBudget: { percent: 0 } }\n', 10_000)]);
    expect(during.version).not.toBe(before.version);
    const after = ok([HOST, overlay('  host: reviews\n  trafficPolicy: { retryBudget: { percent: 0 } }\n', 10_000)], NOW + 10_001);
    expect(after.version).toBe(before.version);
    expect(policyOf(after, 'v1').retryBudget).toBeUndefined();
  });

  it('refuses what it cannot lay: other groups, unknown subsets, subset labels, a rule without its VirtualService overlay', () => {
    const r = translate(
      resources(
        HOST,
        overlay(`  host: reviews
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
  subsets:
    - { name: v9, labels: { version: v9 }, trafficPolicy: { outlierDetection: { consecutive5xxErrors: 1 } } }
`),
      ),
      NOW,
    );
    expect(r.ok).toBe(false);
    const reasons = r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.reason}`);
    expect(reasons.some((s) => s.startsWith('spec.trafficPolicy.loadBalancer: an experiment overlay may set'))).toBe(true);
    expect(reasons.some((s) => s.startsWith('spec.subsets[0].name: subset "v9" is not defined'))).toBe(true);
    expect(reasons.some((s) => s.startsWith('spec.subsets[0].labels:'))).toBe(true);

    const lone = overlay('  host: reviews\n  trafficPolicy: { retryBudget: { percent: 0 } }\n').split('---')[1]!;
    const r2 = translate(resources(HOST, lone), NOW);
    expect(r2.ok).toBe(false);
    expect(r2.ok ? '' : r2.issues.map((i) => i.reason).join()).toContain('has no VirtualService overlay');
  });
});
