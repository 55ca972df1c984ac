import { describe, expect, it } from 'vitest';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import { markSidecarEndpoints, peerAddress } from './sidecar-endpoints.js';

const config: MeshConfig = {
  version: 'v',
  services: [],
  virtualHosts: [],
  clusters: [
    {
      name: 'outbound|9080||reviews',
      host: 'reviews',
      port: 9080,
      discovery: 'static',
      policy: { lb: { kind: 'round_robin' } },
      endpoints: [
        { address: '10.0.0.5', port: 9080, labels: {}, weight: 1 },
        { address: '10.0.0.6', port: 9080, labels: {}, weight: 1 },
        { address: '127.0.0.1', port: 9080, labels: {}, weight: 1 },
      ],
    },
  ],
};

describe('markSidecarEndpoints', () => {
  it('marks endpoints whose address has a subscribed sidecar and lists its identity; loopback says nothing', () => {
    const out = markSidecarEndpoints(config, [
      { address: '10.0.0.5', spiffeId: 'spiffe://cluster.local/ns/default/sa/reviews' },
      { address: '127.0.0.1', spiffeId: 'spiffe://cluster.local/ns/default/sa/other' },
    ]);
    expect(out.clusters[0]!.endpoints.map((e) => e.tlsMode)).toEqual(['istio', undefined, undefined]);
    expect(out.clusters[0]!.peerIdentities).toEqual(['spiffe://cluster.local/ns/default/sa/reviews']);
  });

  it('returns the same config object when no sidecar matches (the version does not move)', () => {
    expect(markSidecarEndpoints(config, [])).toBe(config);
    expect(markSidecarEndpoints(config, [{ address: '10.9.9.9', spiffeId: 'spiffe://x/ns/a/sa/b' }])).toBe(config);
  });

  it('reads the address of a gRPC peer', () => {
    expect(peerAddress('ipv4:10.0.0.5:4567')).toBe('10.0.0.5');
    expect(peerAddress('10.0.0.5:4567')).toBe('10.0.0.5');
    expect(peerAddress('[fd00::5]:4567')).toBe('fd00::5');
    expect(peerAddress('ipv6:[fd00::5]:4567')).toBe('fd00::5');
    expect(peerAddress('::ffff:10.0.0.5:4567')).toBe('10.0.0.5');
  });
});
