// Fail closed: unknown fields and kinds are errors naming file, resource, path
// and the closest known name; declared-but-unapplied fields warn or refuse.
import { describe, expect, it } from 'vitest';
import { parseIstioYaml } from './parse-istio-yaml.js';

const SE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews]
  ports: [{ number: 9080, name: http }]
  endpoints: [{ address: 127.0.0.1 }]
`;

function issues(yaml: string): [string, string][] {
  return parseIstioYaml(yaml, 'f.yaml').issues.map((i) => [i.path, i.reason]);
}

describe('strict schemas', () => {
  it('refuses the typos the issue names, each with the closest field', () => {
    const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r }
spec:
  hosts: [reviews]
  http:
    - timout: 2s
      retries: { attempts: 2, perTryTimout: 1s }
      route:
        - destination: { host: reviews }
          weigth: 100
`;
    const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: r }
spec:
  host: reviews
  trafficPolicy: { outlierDetection: { consecutive5xxError: 3 } }
`;
    const r = parseIstioYaml(`${vs}---\n${dr}`, 'f.yaml');
    expect(r.resources).toEqual([]);
    expect(r.issues).toEqual(
      expect.arrayContaining([
        { file: 'f.yaml', resource: 'VirtualService/default/r', path: 'spec.http[0].timout', reason: 'unknown field "timout" (did you mean `timeout`?)' },
        { file: 'f.yaml', resource: 'VirtualService/default/r', path: 'spec.http[0].retries.perTryTimout', reason: 'unknown field "perTryTimout" (did you mean `perTryTimeout`?)' },
        { file: 'f.yaml', resource: 'VirtualService/default/r', path: 'spec.http[0].route[0].weigth', reason: 'unknown field "weigth" (did you mean `weight`?)' },
        {
          file: 'f.yaml',
          resource: 'DestinationRule/default/r',
          path: 'spec.trafficPolicy.outlierDetection.consecutive5xxError',
          reason: 'unknown field "consecutive5xxError" (did you mean `consecutive5xxErrors`?)',
        },
      ]),
    );
    // `weigth` no longer produces a misleading weight-sum error.
    expect(r.issues.some((i) => /sum/.test(i.reason))).toBe(false);
  });

  it('refuses unknown fields in header matches, top-level keys and specs', () => {
    expect(issues(SE.replace('hosts: [reviews]', 'hosts: [reviews]\n  resolutoin: STATIC'))).toEqual([['spec.resolutoin', 'unknown field "resolutoin" (did you mean `resolution`?)']]);
    expect(issues(SE.replace('spec:', 'spek: {}\nspec:'))).toEqual([['spek', 'unknown field "spek" (did you mean `spec`?)']]);
  });

  it('refuses an unknown Istio kind with a did-you-mean, and Istio kinds Meshlet does not apply', () => {
    const typo = SE.replace('kind: ServiceEntry', 'kind: VirtualServce');
    expect(issues(typo)).toEqual([['kind', 'unknown networking.istio.io kind "VirtualServce" (did you mean `VirtualService`?)']]);
    const sec = SE.replace('networking.istio.io/v1', 'security.istio.io/v1').replace('kind: ServiceEntry', 'kind: RequestAuthentication');
    expect(issues(sec)).toEqual([['kind', expect.stringMatching(/RequestAuthentication is not supported/)]]);
    const wrongGroup = SE.replace('networking.istio.io/v1', 'security.istio.io/v1');
    expect(issues(wrongGroup)).toEqual([['apiVersion', 'ServiceEntry belongs to networking.istio.io, not security.istio.io']]);
  });

  it('skips other API groups with one info note each', () => {
    const r = parseIstioYaml(`apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec: {}\n---\n${SE}`, 'f.yaml');
    expect(r.issues).toEqual([]);
    expect(r.resources).toHaveLength(1);
    expect(r.warnings).toEqual([{ file: 'f.yaml', resource: 'Deployment/default/web', path: '', reason: 'skipped: apps/v1 is not an Istio networking or security API', severity: 'info' }]);
  });

  it('warns about fields accepted but not applied, and refuses those that would fail open', () => {
    const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: r }
spec:
  host: reviews
  trafficPolicy:
    tls: { mode: SIMPLE, credentialName: cacert }
    tunnel: { protocol: CONNECT, targetHost: proxy, targetPort: 8080 }
    outlierDetection: { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2 }
  subsets: [{ name: v1, trafficPolicy: { proxyProtocol: { version: V1 } } }]
`;
    const r = parseIstioYaml(dr, 'f.yaml');
    expect(r.issues.map((i) => [i.path, i.severity])).toEqual([
      ['spec.trafficPolicy.tls.credentialName', 'error'],
      ['spec.trafficPolicy.tunnel', 'error'],
      ['spec.subsets[0].trafficPolicy.proxyProtocol', 'error'],
    ]);
    expect(r.warnings.map((i) => i.path)).toEqual([
      'spec.trafficPolicy.outlierDetection.splitExternalLocalOriginErrors',
      'spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures',
    ]);
    expect(r.warnings.every((w) => w.severity === 'warning' && /not applied/.test(w.reason))).toBe(true);
  });

  it('refuses retryIgnorePreviousHosts: false and unknown grpcStatus names, accepts retryIgnorePreviousHosts: true and grpcStatus names', () => {
    const vs = (extra: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r }
spec:
  hosts: [reviews]
  http: [{ ${extra}, route: [{ destination: { host: reviews } }] }]
`;
    expect(issues(vs('retries: { attempts: 1, retryIgnorePreviousHosts: false }'))).toEqual([['spec.http[0].retries.retryIgnorePreviousHosts', expect.stringMatching(/only true/)]]);
    expect(issues(vs('retries: { attempts: 1, retryIgnorePreviousHosts: true }'))).toEqual([]);
    expect(issues(vs('fault: { abort: { grpcStatus: UNAVAILABLE, percentage: { value: 1 } } }'))).toEqual([]);
    expect(issues(vs('fault: { abort: { grpcStatus: "14", percentage: { value: 1 } } }'))).toEqual([['spec.http[0].fault.abort.grpcStatus', expect.stringMatching(/gRPC status name/)]]);
  });

  it('RE2 regexes: RE2-only syntax passes, JavaScript-only syntax and oversized programs are refused', () => {
    const vs = (re: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r }
spec:
  hosts: [reviews]
  http: [{ match: [{ uri: { regex: ${JSON.stringify(re)} } }], route: [{ destination: { host: reviews } }] }]
`;
    expect(issues(vs('/v[[:digit:]]+/\\pN*(?i)x'))).toEqual([]);
    expect(issues(vs('/(?=a)b'))).toEqual([['spec.http[0].match[0].uri.regex', 'lookahead/lookbehind is not RE2 syntax (Istio regexes are RE2)']]);
    expect(issues(vs('(a)\\1'))).toEqual([['spec.http[0].match[0].uri.regex', 'backreferences are not RE2 syntax (Istio regexes are RE2)']]);
    expect(issues(vs('a{1000}'))).toEqual([['spec.http[0].match[0].uri.regex', expect.stringMatching(/program size 100\d exceeds the limit 100 \(--max-regex-program-size/)]]);
  });

  it('refuses Maglev tables that are not prime or too large, rings and weights past Envoy-like bounds, timer-overflowing delays', () => {
    const dr = (lb: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: r }
spec: { host: reviews, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: x, ${lb} } } } }
`;
    expect(issues(dr('maglev: { tableSize: 200000000 }'))).toEqual([['spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', expect.stringMatching(/at most 5000011/)]]);
    expect(issues(dr('maglev: { tableSize: 65536 }'))).toEqual([['spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize', expect.stringMatching(/prime/)]]);
    expect(issues(dr('maglev: { tableSize: 5000011 }'))).toEqual([]);
    expect(issues(dr('ringHash: { minimumRingSize: 9000000 }'))).toEqual([['spec.trafficPolicy.loadBalancer.consistentHash.ringHash.minimumRingSize', expect.stringMatching(/at most 8388608/)]]);
    expect(issues(SE.replace('{ address: 127.0.0.1 }', '{ address: 127.0.0.1, weight: 1000000 }'))).toEqual([['spec.endpoints[0].weight', 'must be at most 65535']]);
    const fault = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: r }
spec:
  hosts: [reviews]
  http: [{ fault: { delay: { fixedDelay: 25d, percentage: { value: 1 } } }, route: [{ destination: { host: reviews } }] }]
`;
    expect(issues(fault.replace('25d', '600h'))).toEqual([['spec.http[0].fault.delay.fixedDelay', expect.stringMatching(/exceeds the longest timer/)]]);
  });
});
