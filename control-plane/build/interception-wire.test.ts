// VirtualService `tls:` routes and the Sidecar's outboundTrafficPolicy travel
// from the control plane's snapshot to the sidecar's validated config. Before
// they had no resource kind on the wire, so a sidecar fed by a control plane
// silently lost them (they worked only from a local --config-dir).
import { describe, expect, it } from 'vitest';
import { parseIstioYaml } from '../../proxy/config/istio/index.js';
import { translate } from '../../proxy/config/translate/index.js';
// What the sidecar runs on a snapshot (the generated validator; zod's validateMeshConfig is equivalent: snapshot-shape-equivalence.test.ts).
import { validateSnapshot as validateMeshConfig } from '../../proxy/config/validate/validate-snapshot.js';
import { decodeSnapshot } from '../../proxy/xds/index.js';
import { buildNodeSnapshot } from './node-snapshot.js';

const YAML = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: db }
spec:
  hosts: [db.example.org]
  ports: [{ number: 443, name: tls, protocol: TLS }]
  resolution: STATIC
  endpoints: [{ address: 10.0.0.9, labels: { v: a } }, { address: 10.0.0.10, labels: { v: b } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: db }
spec: { host: db.example.org, subsets: [{ name: a, labels: { v: a } }, { name: b, labels: { v: b } }] }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: db-tls }
spec:
  hosts: [db.example.org]
  tls:
    - match: [{ sniHosts: [db.example.org], port: 443 }]
      route:
        - { destination: { host: db.example.org, subset: a }, weight: 50 }
        - { destination: { host: db.example.org, subset: b }, weight: 50 }
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default }
spec:
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }
`;

describe('interception config on the wire', () => {
  it('tls routes and the outbound traffic policy survive snapshot → decode → validate', () => {
    const t = translate(parseIstioYaml(YAML, 'i.yaml').resources);
    if (!t.ok) throw new Error(JSON.stringify(t.issues));
    expect(t.config.tlsRoutes?.length).toBe(1);
    const snap = buildNodeSnapshot(t.config, { id: 'n', workload: 'app', namespace: 'default', labels: {} });
    const decoded = decodeSnapshot(snap.version, snap.resources, 0);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const v = validateMeshConfig(decoded.config);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.config.tlsRoutes).toEqual(t.config.tlsRoutes);
    expect(v.config.outboundTrafficPolicy).toBe('REGISTRY_ONLY');
  });

  it('a config without them carries neither', () => {
    const t = translate(parseIstioYaml(YAML.split('\n---\n')[0]!, 'i.yaml').resources);
    if (!t.ok) throw new Error(JSON.stringify(t.issues));
    const snap = buildNodeSnapshot(t.config, undefined);
    const decoded = decodeSnapshot(snap.version, snap.resources, 0);
    if (!decoded.ok) throw new Error('decode failed');
    expect(decoded.config.tlsRoutes).toBeUndefined();
    expect(decoded.config.outboundTrafficPolicy).toBeUndefined();
  });
});
