// The experiment schema: every example parses; typos and impossible
// combinations are refused with the field named.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment, placementOf } from './experiment-schema.js';

const dir = join(import.meta.dirname, '../../examples/experiments');

describe('experiment schema', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.yaml')))('examples/experiments/%s is valid', (f) => {
    const r = parseExperiment(readFileSync(join(dir, f), 'utf8'), f);
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  const base = `apiVersion: meshlet.io/v1alpha1
kind: Experiment
metadata: { name: x }
spec:
  target: { host: reviews, subset: v3 }
  fault: { abort: { httpStatus: 503, percentage: 20 } }
  load: { via: 127.0.0.1:15001, host: productpage, rate: 5 }
  phases: { baseline: 1s, inject: 1s, recover: 1s }
  hypothesis: { successRate: { min: 0.9 } }
`;

  it('defaults: a subset means server placement, hypothesis checked during inject', () => {
    const r = parseExperiment(base, 'x');
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(placementOf(r.experiment)).toBe('server');
      expect(r.experiment.spec.hypothesis.during).toBe(true);
    }
  });

  it('refuses unknown fields, bad durations and a client-placed subset, naming the field', () => {
    const bad = (text: string): string => {
      const r = parseExperiment(text, 'f.yaml');
      return r.ok ? '' : r.errors.join('\n');
    };
    expect(bad(base.replace('rate: 5', 'rate: 5, rps: 7'))).toMatch(/spec\.load.*rps/);
    expect(bad(base.replace('inject: 1s', 'inject: soon'))).toMatch(/spec\.phases\.inject: must be a duration/);
    expect(bad(base.replace('subset: v3', 'subset: v3, placement: client'))).toMatch(/spec\.target\.placement/);
    expect(bad(base.replace('  fault: { abort: { httpStatus: 503, percentage: 20 } }\n', '  fault: {}\n'))).toMatch(/spec\.fault: needs a delay/);
  });

  it('policy carries DestinationRule settings, validated with Istio\'s own strict field schemas', () => {
    const withPolicy = (policy: string): string => base.replace('  phases:', `  policy: ${policy}\n  phases:`);
    const good = parseExperiment(
      withPolicy('{ retries: { attempts: 3 }, trafficPolicy: { connectionPool: { http: { http2MaxRequests: 2 } }, outlierDetection: { consecutive5xxErrors: 3, interval: 1s }, retryBudget: { percent: 20, minRetryConcurrency: 3 } }, subsets: [{ name: v3, trafficPolicy: { outlierDetection: { consecutive5xxErrors: 1 } } }] }'),
      'x',
    );
    expect(good.ok ? [] : good.errors).toEqual([]);
    const bad = (policy: string): string => {
      const r = parseExperiment(withPolicy(policy), 'f.yaml');
      return r.ok ? '' : r.errors.join('\n');
    };
    expect(bad('{ trafficPolicy: { connectionPool: { http: { http2MaxRequest: 2 } } } }')).toMatch(/spec\.policy\.trafficPolicy\.connectionPool\.http.*http2MaxRequest/);
    expect(bad('{ trafficPolicy: { loadBalancer: { simple: RANDOM } } }')).toMatch(/spec\.policy\.trafficPolicy.*loadBalancer/);
    expect(bad('{ trafficPolicy: { retryBudget: { percent: 120 } } }')).toMatch(/spec\.policy\.trafficPolicy\.retryBudget\.percent/);
    expect(bad('{ trafficPolicy: {} }')).toMatch(/spec\.policy\.trafficPolicy: needs connectionPool/);
    expect(bad('{}')).toMatch(/spec\.policy: needs retries/);
  });

  it('pod labels narrow a fault to some pods (server placement)', () => {
    const r = parseExperiment(base.replace('subset: v3', 'labels: { pod: reviews-v3-b }'), 'x');
    expect(r.ok && placementOf(r.experiment)).toBe('server');
    const c = parseExperiment(base.replace('subset: v3', 'labels: { pod: reviews-v3-b }, placement: client'), 'x');
    expect(c.ok ? '' : c.errors.join()).toMatch(/spec\.target\.placement/);
  });
});
