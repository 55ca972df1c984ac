// Test support: MeshConfigs for the equivalence of the sidecar's generated
// validator with zod (snapshot-shape-equivalence.test.ts): every example
// config translated from Istio YAML, and one hand-written config that uses
// every branch of the model schema (each union option, every optional block).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import { loadMeshConfig } from '../../proxy/config/index.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Translated example configs (every complete config directory under examples/; demo-config is an overlay). */
export async function exampleConfigs(): Promise<MeshConfig[]> {
  const dirs = readdirSync(EXAMPLES, { recursive: true, withFileTypes: true })
    .filter((d) => d.isDirectory() && /(^|-)config$/.test(d.name) && d.name !== 'demo-config')
    .map((d) => `${d.parentPath}/${d.name}`);
  if (dirs.length < 3) throw new Error(`expected the example configs under ${EXAMPLES}, found ${dirs.join(', ')}`);
  const out: MeshConfig[] = [];
  for (const dir of dirs) {
    const r = await loadMeshConfig(dir, 0);
    if (!r.ok) throw new Error(`${dir}: ${JSON.stringify(r.issues)}`);
    out.push(r.config);
  }
  return out;
}

const H = 'reviews.default.svc.cluster.local';
const ep = (address: string, weight = 1): Record<string, unknown> => ({ address, port: 9080, labels: { version: 'v1' }, weight, tlsMode: 'istio' });

/** Every branch of the schema once; valid (zod accepts it). */
export function kitchenSink(): MeshConfig {
  const hashKeys = [{ kind: 'header', name: 'x-user' }, { kind: 'cookie', name: 's', path: '/', ttlMs: 1000 }, { kind: 'source_ip' }, { kind: 'query', name: 'q' }];
  const lbs = [
    { kind: 'round_robin' }, { kind: 'least_request' }, { kind: 'random' },
    { kind: 'ring_hash', hashKey: hashKeys[0], tableSize: 1024 }, { kind: 'maglev', hashKey: hashKeys[1], tableSize: 65537 },
    { kind: 'ring_hash', hashKey: hashKeys[2], tableSize: 1 }, { kind: 'maglev', hashKey: hashKeys[3], tableSize: 5_000_011 },
  ];
  const tls = [undefined, { mode: 'DISABLE' }, { mode: 'ISTIO_MUTUAL', sni: 'a', subjectAltNames: ['spiffe://x'] }, { mode: 'SIMPLE', sni: 'b', caCertificates: '/ca', insecureSkipVerify: false }, { mode: 'MUTUAL', clientCertificate: '/c', privateKey: '/k', subjectAltNames: ['s'] }, { mode: 'SIMPLE' }, { mode: 'ISTIO_MUTUAL' }];
  const clusters = lbs.map((lb, i) => ({
    name: `outbound|9080|v${i}|${H}`, host: H, port: 9080, subset: `v${i}`, discovery: i % 2 === 0 ? 'static' : 'dns',
    endpoints: [ep(`10.0.0.${i + 1}`, i + 1), ep(`10.0.1.${i + 1}`)],
    policy: {
      lb,
      ...(i === 0 ? { connectionPool: { maxConnections: 10, connectTimeoutMs: 1000, maxPendingRequests: 1, maxRequests: 2, maxRequestsPerConnection: 3, maxRetries: 4, idleTimeoutMs: 5, maxConcurrentStreams: 6 } } : {}),
      ...(i === 1 ? { outlierDetection: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 } } : {}),
      ...(i === 2 ? { retryBudget: { percent: 20, minRetryConcurrency: 3 } } : {}),
    },
    ...(i < 3 ? { protocol: ['http1', 'http2', 'downstream'][i] } : {}),
    ...(tls[i] ? { tls: tls[i] } : {}),
    ...(i === 3 ? { peerIdentities: ['spiffe://cluster.local/ns/default/sa/reviews'] } : {}),
  }));
  clusters.push({ name: `outbound|9080||${H}`, host: H, port: 9080, discovery: 'static', endpoints: [ep('10.0.9.1')], policy: { lb: { kind: 'round_robin' } } } as (typeof clusters)[number]);
  const headers = { request: { set: { a: '1' }, add: { b: '2' }, remove: ['c'] }, response: { set: { d: '4' } } };
  const config = {
    version: 'v1',
    services: [{ host: H, namespace: 'default', ports: [{ number: 9080, name: 'http', protocol: 'HTTP', targetPort: 9999 }, { number: 443, name: 'tls', protocol: 'TLS' }], addresses: ['10.96.0.1'], source: 'ServiceEntry/default/reviews', exportTo: ['*'] }],
    clusters,
    virtualHosts: [{
      name: 'default/reviews', domains: [H, 'reviews'], source: 'VirtualService/default/reviews', exportTo: ['.'],
      routes: [
        {
          name: 'r0',
          match: [{
            uri: { kind: 'prefix', value: '/api' }, authority: { kind: 'exact', value: 'reviews' }, method: { kind: 'regex', value: '^(GET|HEAD)$' },
            headers: { 'x-a': { kind: 'regex', value: '^v[0-9]+$' }, 'x-b': { kind: 'exact', value: 'y' } },
            withoutHeaders: { 'x-c': { kind: 'present' }, 'x-d': { kind: 'regex', value: 'z+' }, 'x-e': { kind: 'prefix', value: 'p' } },
            queryParams: { q: { kind: 'exact', value: '1' } }, ignoreUriCase: true, port: 9080, sourceLabels: { app: 'productpage' }, sourceNamespace: 'default',
          }, {}],
          action: { kind: 'forward', destinations: [{ host: H, subset: 'v0', port: 9080, weight: 90, headers }, { host: H, weight: 10 }] },
          headers,
          rewrite: { uri: '/v2', authority: 'reviews-v2', uriRegex: { match: '^/api/(.*)$', substitution: '/\\1' } },
          timeoutMs: 5000,
          retries: { attempts: 3, perTryTimeoutMs: 1000, retryOn: ['5xx', 'retriable-status-codes', 'unavailable'], retriableStatusCodes: [503], idempotentOnly5xx: true, isDefault: false },
          fault: { delay: { fixedDelayMs: 100, percent: 50 }, abort: { httpStatus: 503, grpcStatus: 'UNAVAILABLE', percent: 10 }, headerControlled: true, maxActiveFaults: 5, expiresAt: 1_700_000_000_000, placement: 'server', serverLabels: { version: 'v1' }, experiment: 'exp-1' },
          mirrors: [{ host: H, subset: 'v1', port: 9080, percent: 100, shadowSuffix: true, expiresAt: 1 }],
          upgrades: ['websocket', 'spdy/3.1'],
        },
        { name: 'r1', match: [], action: { kind: 'redirect', uri: '/x', authority: 'a', scheme: 'https', port: 443, status: 308 } },
        { name: 'r2', match: [], action: { kind: 'direct', status: 404, body: 'nope' }, fault: { abort: { percent: 0 } } },
      ],
    }],
    tlsRoutes: [{ name: 'tls-0', sniHosts: ['reviews'], port: 443, destinations: [{ host: H, weight: 1 }], source: 'VirtualService/default/reviews' }],
    outboundTrafficPolicy: 'REGISTRY_ONLY',
    peerAuthentications: [
      { source: 'PeerAuthentication/istio-system/default', namespace: 'istio-system', scope: 'mesh', mode: 'STRICT' },
      { source: 'PeerAuthentication/default/r', namespace: 'default', scope: 'workload', selector: { app: 'reviews' }, mode: 'PERMISSIVE', ports: { '9080': 'DISABLE' } },
    ],
    authorizationPolicies: [{
      name: 'allow', namespace: 'default', selector: { app: 'reviews' }, action: 'ALLOW', source: 'AuthorizationPolicy/default/allow',
      rules: [
        {
          from: [{ principals: ['cluster.local/ns/default/sa/p'], notPrincipals: ['x'], namespaces: ['default'], notNamespaces: ['n'], trustDomains: ['cluster.local'], notTrustDomains: ['t'], ipBlocks: ['10.0.0.0/8'], notIpBlocks: ['10.1.0.1'], remoteIpBlocks: ['::1/128'], notRemoteIpBlocks: ['fd00::/8'] }],
          to: [{ hosts: ['reviews'], notHosts: ['h'], ports: [9080], notPorts: [1], methods: ['GET'], notMethods: ['POST'], paths: ['/api/*'], notPaths: ['/admin'] }],
          when: [{ key: 'request.headers', header: 'x-token', values: ['a'], notValues: ['b'] }, { key: 'source.ip', values: ['10.0.0.1'] }, { key: 'destination.port', values: ['9080'] }],
        },
        {},
      ],
    }, { name: 'deny', namespace: 'default', action: 'DENY', rules: [], source: 'AuthorizationPolicy/default/deny' }],
  };
  return config as unknown as MeshConfig;
}
