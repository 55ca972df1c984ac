import { describe, expect, it } from 'vitest';
import { BASE, ok } from './translate-fixture.test-support.js';
import { parseIstioYaml } from '../istio/index.js';
import { translate } from './translate.js';

const TCP_SE = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: db }
spec:
  hosts: [db.example.org]
  addresses: [10.96.100.1, 10.20.0.0/16]
  ports: [{ number: 6379, name: tcp-redis }]
  resolution: STATIC
  endpoints: [{ address: 10.0.0.9, labels: { v: a } }]
`;

const TLS = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: db }
spec: { host: db.example.org, subsets: [{ name: a, labels: { v: a } }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: db-tls }
spec:
  hosts: [db.example.org]
  tls:
    - match: [{ sniHosts: [DB.example.com], port: 6379 }, { sniHosts: ['*.db.example.com'] }]
      route:
        - { destination: { host: db.example.org, subset: a }, weight: 50 }
        - { destination: { host: db.example.org }, weight: 50 }
`;

function issues(...yaml: string[]): string[] {
  const parsed = yaml.map((y, i) => parseIstioYaml(y, `f${i}.yaml`));
  const bad = parsed.flatMap((p) => p.issues.map((x) => `${x.resource}: ${x.path}: ${x.reason}`));
  if (bad.length > 0) return bad;
  const t = translate(parsed.flatMap((p) => p.resources));
  return t.ok ? [] : t.issues.map((x) => `${x.resource}: ${x.path}: ${x.reason}`);
}

describe('translate: interception config', () => {
  it('keeps ServiceEntry addresses and infers TCP from the port name', () => {
    const cfg = ok(TCP_SE);
    expect(cfg.services[0]).toMatchObject({ host: 'db.example.org', addresses: ['10.96.100.1', '10.20.0.0/16'], ports: [{ number: 6379, protocol: 'TCP' }] });
  });

  it('refuses addresses that are not IPs or CIDRs, naming the field', () => {
    const bad = TCP_SE.replace('10.20.0.0/16', 'db.example.com').replace('10.96.100.1', '10.0.0.0/33');
    expect(issues(bad)).toEqual([
      'ServiceEntry/default/db: spec.addresses[0]: "10.0.0.0/33" is not an IP address or CIDR',
      'ServiceEntry/default/db: spec.addresses[1]: "db.example.com" is not an IP address or CIDR',
    ]);
  });

  it('turns VirtualService tls routes into one SNI route per match, lower-cased, in order', () => {
    const cfg = ok(TCP_SE, TLS);
    expect(cfg.tlsRoutes).toEqual([
      {
        name: 'db-tls.tls.0.0',
        sniHosts: ['db.example.com'],
        port: 6379,
        destinations: [
          { host: 'db.example.org', subset: 'a', port: 6379, weight: 50 },
          { host: 'db.example.org', port: 6379, weight: 50 },
        ],
        source: 'VirtualService/default/db-tls',
      },
      expect.objectContaining({ name: 'db-tls.tls.0.1', sniHosts: ['*.db.example.com'], port: 0 }),
    ]);
  });

  it('checks tls route destinations and weights like HTTP routes', () => {
    expect(issues(TCP_SE, TLS.replace('subset: a }', 'subset: zz }'))).toEqual([
      'VirtualService/default/db-tls: spec.tls[0].route[0].destination.subset: subset "zz" is not defined by a DestinationRule for host db.example.org',
    ]);
    expect(issues(TCP_SE, TLS.replace('weight: 50 }\n        - { destination: { host: db.example.org }, weight: 50', 'weight: 50 }\n        - { destination: { host: db.example.org }, weight: 10'))).toEqual([
      'VirtualService/default/db-tls: spec.tls[0].route: weights of the destinations must sum to 100 (got 60)',
    ]);
  });

  it('applies a Sidecar outboundTrafficPolicy, refuses conflicting ones and what it cannot honour', () => {
    const sidecar = (name: string, mode: string, extra = ''): string => `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: ${name} }
spec:
  outboundTrafficPolicy: { mode: ${mode} }${extra}
`;
    expect(ok(BASE, sidecar('default', 'REGISTRY_ONLY')).outboundTrafficPolicy).toBe('REGISTRY_ONLY');
    expect(ok(BASE).outboundTrafficPolicy).toBeUndefined();
    expect(issues(BASE, sidecar('a', 'REGISTRY_ONLY'), sidecar('b', 'ALLOW_ANY'))).toEqual([
      'Sidecar/default/b: spec.outboundTrafficPolicy.mode: ALLOW_ANY conflicts with REGISTRY_ONLY from Sidecar/default/a',
    ]);
    expect(issues(BASE, sidecar('a', 'REGISTRY_ONLY', '\n  egress: [{ hosts: ["./*"] }]'))).toEqual([
      'Sidecar/default/a: spec.egress: not supported: every sidecar sees every service (only outboundTrafficPolicy is applied)',
    ]);
  });
});
