import { describe, expect, it } from 'vitest';
import type { LoadBalancerPolicy } from '../model/index.js';
import { BASE, cluster, ok } from './translate-fixture.test-support.js';

const R = 'reviews.default.svc.cluster.local';

describe('translate: ServiceEntry → services and clusters', () => {
  it('declares the service with normalised host, namespace, ports and source', () => {
    const cfg = ok(BASE);
    expect(cfg.services).toEqual([
      { host: R, namespace: 'default', ports: [{ number: 9080, name: 'http', protocol: 'HTTP', targetPort: 9999 }], source: 'ServiceEntry/default/reviews' },
    ]);
  });

  it('makes one cluster per port plus one per subset, filtering endpoints by subset labels', () => {
    const cfg = ok(BASE);
    expect(cfg.clusters.map((c) => c.name)).toEqual([`outbound|9080||${R}`, `outbound|9080|v1|${R}`, `outbound|9080|v2|${R}`]);
    // endpoint port: named port from the endpoint, else targetPort; weight default 1
    expect(cluster(cfg, `outbound|9080||${R}`).endpoints).toEqual([
      { address: '10.0.0.1', port: 19082, labels: { version: 'v1' }, weight: 1 },
      { address: '10.0.0.2', port: 9999, labels: { version: 'v2' }, weight: 3 },
    ]);
    expect(cluster(cfg, `outbound|9080|v2|${R}`).endpoints.map((e) => e.address)).toEqual(['10.0.0.2']);
    expect(cluster(cfg, `outbound|9080|v1|${R}`)).toMatchObject({ subset: 'v1', discovery: 'static', port: 9080, host: R });
  });

  const discovery: [string, string, string, unknown][] = [
    ['DNS with hostname endpoints keeps the names', 'DNS', '[{ address: db.example.com }]', [{ address: 'db.example.com', port: 80, labels: {}, weight: 1 }]],
    ['DNS without endpoints resolves the host as written', 'DNS', '[]', [{ address: 'ext.example.com', port: 80, labels: {}, weight: 1 }]],
    ['DNS_ROUND_ROBIN is dns too', 'DNS_ROUND_ROBIN', '[]', [{ address: 'ext.example.com', port: 80, labels: {}, weight: 1 }]],
    ['NONE with IP endpoints is static', 'NONE', '[{ address: 10.1.1.1 }]', [{ address: '10.1.1.1', port: 80, labels: {}, weight: 1 }]],
    ['STATIC without endpoints has none', 'STATIC', '[]', []],
  ];
  it.each(discovery)('%s', (_name, resolution, endpoints, want) => {
    const cfg = ok(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ext }
spec: { hosts: [ext.example.com], resolution: ${resolution}, ports: [{ number: 80, name: http }], endpoints: ${endpoints} }
`);
    const c = cluster(cfg, 'outbound|80||ext.example.com');
    expect(c.discovery).toBe(resolution === 'STATIC' || resolution === 'NONE' ? 'static' : 'dns');
    expect(c.endpoints).toEqual(want);
  });

  it('infers the protocol from the port name when none is given', () => {
    const cfg = ok(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: multi }
spec: { hosts: [multi], ports: [{ number: 80, name: grpc-api }, { number: 81, name: http2-x }, { number: 82, name: misc, protocol: tcp }, { number: 83, name: web }] }
`);
    // No protocol and no known prefix: detected per connection, as Istio does.
    expect(cfg.services[0]?.ports.map((p) => p.protocol)).toEqual(['GRPC', 'HTTP2', 'TCP', 'AUTO']);
  });
});

describe('translate: DestinationRule → cluster policy', () => {
  const lb: [string, string, LoadBalancerPolicy][] = [
    ['absent → least_request (Istio default)', '{}', { kind: 'least_request' }],
    ['UNSPECIFIED', '{ loadBalancer: { simple: UNSPECIFIED } }', { kind: 'least_request' }],
    ['ROUND_ROBIN', '{ loadBalancer: { simple: ROUND_ROBIN } }', { kind: 'round_robin' }],
    ['LEAST_CONN', '{ loadBalancer: { simple: LEAST_CONN } }', { kind: 'least_request' }],
    ['LEAST_REQUEST', '{ loadBalancer: { simple: LEAST_REQUEST } }', { kind: 'least_request' }],
    ['RANDOM', '{ loadBalancer: { simple: RANDOM } }', { kind: 'random' }],
    ['header hash, ring default', '{ loadBalancer: { consistentHash: { httpHeaderName: X-User } } }', { kind: 'ring_hash', hashKey: { kind: 'header', name: 'x-user' }, tableSize: 1024 }],
    ['ringHash size', '{ loadBalancer: { consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 64 } } } }', { kind: 'ring_hash', hashKey: { kind: 'source_ip' }, tableSize: 64 }],
    ['deprecated minimumRingSize', '{ loadBalancer: { consistentHash: { httpQueryParameterName: u, minimumRingSize: 32 } } }', { kind: 'ring_hash', hashKey: { kind: 'query', name: 'u' }, tableSize: 32 }],
    ['maglev default', '{ loadBalancer: { consistentHash: { useSourceIp: true, maglev: {} } } }', { kind: 'maglev', hashKey: { kind: 'source_ip' }, tableSize: 65537 }],
    ['cookie', '{ loadBalancer: { consistentHash: { httpCookie: { name: sid, path: /, ttl: 1h } } } }', { kind: 'ring_hash', hashKey: { kind: 'cookie', name: 'sid', path: '/', ttlMs: 3_600_000 }, tableSize: 1024 }],
  ];
  it.each(lb)('loadBalancer %s', (_name, tp, want) => {
    const cfg = ok(BASE.replace('host: reviews\n', `host: reviews\n  trafficPolicy: ${tp}\n`));
    expect(cluster(cfg, `outbound|9080||${R}`).policy.lb).toEqual(want);
    expect(cluster(cfg, `outbound|9080|v1|${R}`).policy.lb).toEqual(want);
  });

  it('maps connectionPool and outlierDetection with defaults; accepts fields it warns about', () => {
    const tp = `
    connectionPool:
      tcp: { maxConnections: 10, connectTimeout: 250ms }
      http: { http1MaxPendingRequests: 5, http2MaxRequests: 7, maxRequestsPerConnection: 1, maxRetries: 2, idleTimeout: 1m }
    outlierDetection: { consecutiveGatewayErrors: 3, interval: 5s }
    tls: { mode: ISTIO_MUTUAL }
    loadBalancer: { localityLbSetting: { enabled: false }, warmup: { duration: 10s } }`;
    const cfg = ok(BASE.replace('host: reviews\n', `host: reviews\n  trafficPolicy:${tp}\n`));
    expect(cluster(cfg, `outbound|9080||${R}`).policy).toEqual({
      lb: { kind: 'least_request' },
      connectionPool: { maxConnections: 10, connectTimeoutMs: 250, maxPendingRequests: 5, maxRequests: 7, maxRequestsPerConnection: 1, maxRetries: 2, idleTimeoutMs: 60_000 },
      outlierDetection: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 3, intervalMs: 5000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 },
    });
  });

  it('portLevelSettings replace the policy for their port wholesale, as Istio merges them', () => {
    const multi = BASE.replace('ports: [{ number: 9080, name: http, targetPort: 9999 }]', 'ports: [{ number: 9080, name: http }, { number: 9443, name: http-alt }]');
    const tp = `
    loadBalancer: { simple: ROUND_ROBIN }
    connectionPool: { tcp: { maxConnections: 10 } }
    portLevelSettings:
      - port: { number: 9443 }
        loadBalancer: { simple: RANDOM }`;
    const cfg = ok(multi.replace('host: reviews\n', `host: reviews\n  trafficPolicy:${tp}\n`));
    expect(cluster(cfg, `outbound|9080||${R}`).policy).toEqual({ lb: { kind: 'round_robin' }, connectionPool: { maxConnections: 10 } });
    // The port-level entry does not inherit connectionPool from the destination level.
    expect(cluster(cfg, `outbound|9443||${R}`).policy).toEqual({ lb: { kind: 'random' } });
    // Subsets without their own policy take the destination's, per port.
    expect(cluster(cfg, `outbound|9443|v1|${R}`).policy).toEqual({ lb: { kind: 'random' } });
    expect(cluster(cfg, `outbound|9080|v1|${R}`).policy).toEqual({ lb: { kind: 'round_robin' }, connectionPool: { maxConnections: 10 } });
  });

  it('a subset port-level entry replaces the merged policy for that port; subset groups override otherwise', () => {
    const multi = BASE.replace('ports: [{ number: 9080, name: http, targetPort: 9999 }]', 'ports: [{ number: 9080, name: http }, { number: 9443, name: http-alt }]')
      .replace('{ name: v1, labels: { version: v1 } }', `{ name: v1, labels: { version: v1 }, trafficPolicy: { connectionPool: { tcp: { maxConnections: 3 } }, portLevelSettings: [{ port: { number: 9443 }, outlierDetection: { consecutive5xxErrors: 1 } }] } }`);
    const cfg = ok(multi.replace('host: reviews\n', 'host: reviews\n  trafficPolicy: { loadBalancer: { simple: RANDOM } }\n'));
    expect(cluster(cfg, `outbound|9080|v1|${R}`).policy).toEqual({ lb: { kind: 'random' }, connectionPool: { maxConnections: 3 } });
    expect(cluster(cfg, `outbound|9443|v1|${R}`).policy.lb).toEqual({ kind: 'least_request' });
    expect(cluster(cfg, `outbound|9443|v1|${R}`).policy.outlierDetection?.consecutive5xxErrors).toBe(1);
    expect(cluster(cfg, `outbound|9443|v1|${R}`).policy.connectionPool).toBeUndefined();
  });

  it('accepts the deprecated consecutiveErrors', () => {
    const cfg = ok(BASE.replace('host: reviews\n', 'host: reviews\n  trafficPolicy: { outlierDetection: { consecutiveErrors: 2 } }\n'));
    expect(cluster(cfg, `outbound|9080||${R}`).policy.outlierDetection?.consecutive5xxErrors).toBe(2);
  });

  it('subset trafficPolicy replaces field groups whole, inheriting the rest', () => {
    const dr = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: { simple: RANDOM }
    connectionPool: { tcp: { maxConnections: 10 }, http: { maxRetries: 1 } }
  subsets:
    - name: v1
      labels: { version: v1 }
      trafficPolicy: { connectionPool: { http: { http2MaxRequests: 3 } }, outlierDetection: {} }
`;
    const cfg = ok(BASE.split('---')[0] ?? '', dr);
    expect(cluster(cfg, `outbound|9080|v1|${R}`).policy).toEqual({
      lb: { kind: 'random' },
      connectionPool: { maxRequests: 3 },
      outlierDetection: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 },
    });
    expect(cluster(cfg, `outbound|9080||${R}`).policy).toEqual({ lb: { kind: 'random' }, connectionPool: { maxConnections: 10, maxRetries: 1 } });
  });
});
