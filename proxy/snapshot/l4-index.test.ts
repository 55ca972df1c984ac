// How a redirected connection's original destination is declared (the
// protocol decision before any byte is read), per Istio's listener model:
// address matches first, then TCP/TLS claims on a bare port, then the port of
// an address-less HTTP service (Istio's 0.0.0.0:<port> HTTP listener).
import { describe, expect, it } from 'vitest';
import type { MeshConfig, ServiceModel } from '../config/model/index.js';
import type { UpstreamRegistry } from '../upstream/registry.js';
import { L4Index } from './l4-index.js';

// The index only asks the registry for cluster runtimes, which this test does not look at.
const noClusters = { get: () => undefined } as unknown as UpstreamRegistry;
const svc = (host: string, port: number, protocol: string, addresses?: string[]): ServiceModel => ({
  host,
  namespace: 'default',
  ports: [{ number: port, name: `${protocol.toLowerCase()}-p`, protocol }],
  ...(addresses ? { addresses } : {}),
  source: `ServiceEntry/default/${host}`,
});
const index = (services: ServiceModel[]): L4Index => new L4Index({ version: 't', services, clusters: [], virtualHosts: [] } satisfies MeshConfig, noClusters);

describe('L4Index.declaredProtocol', () => {
  it('an address-less HTTP port is HTTP for every address, so a client slower than the detection timeout is not cut to TCP', () => {
    const l4 = index([svc('api.example.com', 8080, 'HTTP'), svc('grpc.example.com', 9090, 'GRPC')]);
    expect(l4.declaredProtocol('203.0.113.9', 8080)).toBe('http1');
    expect(l4.declaredProtocol('198.51.100.1', 9090)).toBe('http2');
    expect(l4.declaredProtocol('203.0.113.9', 8081)).toBeUndefined();
  });

  it('an address match, a bare TCP claim or a TLS port wins over the HTTP port', () => {
    const l4 = index([
      svc('web.example.com', 8080, 'HTTP'),
      svc('db.internal', 8080, 'TCP', ['10.9.0.0/16']),
      svc('web2.example.com', 7000, 'HTTP'),
      svc('cache.internal', 7000, 'TCP'),
      svc('web3.example.com', 8443, 'HTTP'),
      svc('secure.example.com', 8443, 'TLS'),
    ]);
    expect(l4.declaredProtocol('10.9.1.2', 8080)).toBe('tcp');
    expect(l4.declaredProtocol('10.8.1.2', 8080)).toBe('http1');
    expect(l4.declaredProtocol('10.8.1.2', 7000)).toBe('tcp');
    expect(l4.declaredProtocol('10.8.1.2', 8443)).toBe('tls');
  });

  it('AUTO ports stay undeclared (sniffed)', () => {
    expect(index([svc('x.example.com', 5000, 'AUTO')]).declaredProtocol('10.0.0.1', 5000)).toBeUndefined();
  });
});
