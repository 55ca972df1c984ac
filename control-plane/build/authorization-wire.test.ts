// AuthorizationPolicies travel from the control plane's snapshot to the
// sidecar's validated config intact, and a policy the sidecar does not fully
// understand is refused (NACK) rather than enforced with a field missing.
import { describe, expect, it } from 'vitest';
import { parseIstioYaml } from '../../proxy/config/istio/index.js';
import { translate } from '../../proxy/config/translate/index.js';
// What the sidecar runs on a snapshot (the generated validator; zod's validateMeshConfig is equivalent: snapshot-shape-equivalence.test.ts).
import { validateSnapshot as validateMeshConfig } from '../../proxy/config/validate/validate-snapshot.js';
import { decodeSnapshot } from '../../proxy/xds/index.js';
import { buildNodeSnapshot } from './node-snapshot.js';

const YAML = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews, namespace: default }
spec:
  selector: { matchLabels: { app: reviews } }
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/default/sa/productpage"], notIpBlocks: ["10.9.0.0/16"] } }]
    to: [{ operation: { methods: [GET], ports: ["9080"] } }]
    when: [{ key: "request.headers[x-env]", notValues: [test] }]
`;

function meshConfig() {
  const t = translate(parseIstioYaml(YAML, 'p.yaml').resources);
  if (!t.ok) throw new Error(JSON.stringify(t.issues));
  return t.config;
}

describe('authorization policies on the wire', () => {
  it('control plane snapshot → decode → validate keeps every policy whole, for every node', () => {
    const config = meshConfig();
    const snap = buildNodeSnapshot(config, { id: 'n', workload: 'ratings', namespace: 'other', labels: {} });
    expect(snap.resources.filter((r) => r.kind === 'authorization_policy').map((r) => r.name)).toEqual(['default/reviews']);
    const decoded = decodeSnapshot(snap.version, snap.resources, 0);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const v = validateMeshConfig(decoded.config);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.config.authorizationPolicies).toEqual(config.authorizationPolicies);
  });

  it('an unknown field or a malformed IP block in a policy is refused, not dropped', () => {
    const config = meshConfig();
    const snap = buildNodeSnapshot(config, undefined);
    for (const mutate of [
      (b: Record<string, unknown>) => ((b['rules'] as Record<string, unknown>[])[0]!['unlessFullMoon'] = true),
      (b: Record<string, unknown>) => (((b['rules'] as { from: Record<string, unknown>[] }[])[0]!.from[0]!['notIpBlocks'] as string[])[0] = '10.9.0.0/99'),
    ]) {
      const resources = snap.resources.map((r) => {
        if (r.kind !== 'authorization_policy') return r;
        const body = JSON.parse(r.body) as Record<string, unknown>;
        mutate(body);
        return { ...r, body: JSON.stringify(body) };
      });
      const decoded = decodeSnapshot('v', resources, 0);
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) return;
      const v = validateMeshConfig(decoded.config);
      expect(v.ok).toBe(false);
    }
  });
});
