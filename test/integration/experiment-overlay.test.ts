// Experiment overlays (what `meshlet experiment` writes) through real sidecar
// processes: a server-placed abort is applied by the destination's inbound
// sidecar, so the caller's retries absorb it (and without retries it shows);
// pod labels narrow it; an overlay expires by itself with a new config
// version and a log line.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { send, type Reply } from '../support/http-client.js';
import { serviceEntry, startMeshlet, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';
import { overlayYaml } from '../../cli/experiment/fault-target.js';
import { parseExperiment } from '../../cli/experiment/experiment-schema.js';

const scope = testScope();

function overlay(opts: { abort?: number; expiresAt: number; placement?: 'server' | 'client'; labels?: string; match?: string }): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: exp-svc
  annotations:
    meshlet.io/experiment: exp
    meshlet.io/experiment-expires-at: "${new Date(opts.expiresAt).toISOString()}"
    meshlet.io/fault-placement: ${opts.placement ?? 'server'}
${opts.labels !== undefined ? `    meshlet.io/fault-labels: "${opts.labels}"\n` : ''}spec:
  hosts: [svc]
  http:
    - fault: { abort: { httpStatus: 503, percentage: { value: ${opts.abort ?? 50} } } }
      route: [{ destination: { host: svc } }]
${opts.match !== undefined ? `      match: [${opts.match}]\n` : ''}---
`;
}

const routeVs = (retries: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc }
spec:
  hosts: [svc]
  http:
    - route: [{ destination: { host: svc } }]
      retries: ${retries}
---
`;

/** `n` requests, 2 at a time (the retry budget allows at least 3 concurrent retries, so it never trips here). */
async function many(m: MeshletProc, n: number, path = '/'): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < n; i += 2) out.push(...(await Promise.all(Array.from({ length: Math.min(2, n - i) }, () => send(m.outbound, { host: 'svc', path })))));
  return out;
}

/** A server sidecar (inbound → app) whose config carries the overlay, and a caller sidecar pointing at its inbound port. */
async function pair(serverYaml: string, callerRetries: string, labels = 'app=svc,version=v1'): Promise<{ caller: MeshletProc; server: MeshletProc; served: () => number }> {
  const up = await scope.upstream('app');
  const server = await startMeshlet(['--config', tempConfig({ 'c.yaml': serviceEntry('svc', [up.port]) + serverYaml }), '--access-log', 'off', '--app-port', String(up.port), '--workload', 'svc', '--labels', labels]);
  const caller = await scope.meshlet(serviceEntry('svc', [server.inbound]) + routeVs(callerRetries));
  scope.onTeardown(() => void server.stop());
  return { caller, server, served: () => up.received.length };
}

describe('experiment overlays', () => {
  it('a server-placed abort reaches the caller as an upstream 503: retries absorb it, no retries show it', { timeout: 90_000 }, async () => {
    const at = Date.now() + 60_000;
    const withRetries = await pair(overlay({ expiresAt: at }), '{ attempts: 3, retryOn: 5xx }');
    const a = await many(withRetries.caller, 40);
    expect(a.filter((r) => r.status === 200).length).toBe(40);
    expect(withRetries.served()).toBe(40);

    const noRetries = await pair(overlay({ expiresAt: at }), '{ attempts: 0 }');
    const b = await many(noRetries.caller, 40);
    // Exactly half: the fault accumulator is deterministic.
    expect(b.filter((r) => r.status === 503).length).toBe(20);
    expect(noRetries.served()).toBe(20);
  });

  it('pod labels narrow a server-placed fault, and a path match narrows the route', { timeout: 90_000 }, async () => {
    const at = Date.now() + 60_000;
    const other = await pair(overlay({ abort: 100, expiresAt: at, labels: 'version=v3' }), '{ attempts: 0 }');
    expect((await many(other.caller, 10)).every((r) => r.status === 200)).toBe(true);
    const narrowed = await pair(overlay({ abort: 100, expiresAt: at, match: '{ uri: { prefix: /bad } }' }), '{ attempts: 0 }');
    expect((await many(narrowed.caller, 10, '/good')).every((r) => r.status === 200)).toBe(true);
    expect((await many(narrowed.caller, 10, '/bad')).every((r) => r.status === 503)).toBe(true);
  });

  it('a client-placed overlay expires by itself: new version, a log line, no more faults', { timeout: 60_000 }, async () => {
    const up = await scope.upstream('app');
    const dir = tempConfig({ 'c.yaml': serviceEntry('svc', [up.port]) + routeVs('{ attempts: 0 }') });
    const m = await startMeshlet(['--config', dir, '--access-log', 'off']);
    scope.onTeardown(() => void m.stop());
    const versionOf = async (): Promise<string> => ((await (await fetch(`http://127.0.0.1:${m.admin}/config_dump`)).json()) as { version: string }).version;
    const v0 = await versionOf();
    // Written once the sidecar runs, so its expiry is not eaten by a slow start.
    writeFileSync(join(dir, 'exp.yaml'), overlay({ abort: 100, expiresAt: Date.now() + 6000, placement: 'client' }));
    const first = await until(async () => {
      const r = await send(m.outbound, { host: 'svc' });
      return r.status === 503 ? r : undefined;
    }, 5000);
    expect(first.headers['x-meshlet-flags']).toBe('FI');
    const v1 = await versionOf();
    expect(v1).not.toBe(v0);
    await until(() => /experiment fault expired \(TTL\)/.test(m.stderr()) || /experiment fault expired \(TTL\)/.test(m.stdout()), 20_000);
    expect(await versionOf()).not.toBe(v1);
    expect((await send(m.outbound, { host: 'svc' })).status).toBe(200);
  });

  it('refuses an overlay without an absolute expiry, and one whose narrowing conflicts with the route', async () => {
    const up = await scope.upstream('app');
    const { loadMeshConfig } = await import('../../proxy/config/index.js');
    const noExpiry = overlay({ expiresAt: Date.now() + 1000 }).replace(/ {4}meshlet\.io\/experiment-expires-at.*\n/, '');
    const dir = tempConfig({ 'c.yaml': serviceEntry('svc', [up.port]) + noExpiry });
    const r = await loadMeshConfig(dir);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path).join()).toContain('experiment-expires-at');
  });

  it('a policy-only overlay with DestinationRule settings (the runner\'s own YAML): a circuit breaker in force, then gone at the expiry', { timeout: 60_000 }, async () => {
    const up = await scope.upstream('slow', (_req, res) => void setTimeout(() => res.end('ok'), 1500));
    const dir = tempConfig({ 'c.yaml': serviceEntry('svc', [up.port]) + routeVs('{ attempts: 0 }') });
    const m = await startMeshlet(['--config', dir, '--access-log', 'off']);
    scope.onTeardown(() => void m.stop());
    const parsed = parseExperiment(
      `apiVersion: meshlet.io/v1alpha1
kind: Experiment
metadata: { name: breaker }
spec:
  target: { host: svc }
  fault: { network: { kill: true } }
  policy: { trafficPolicy: { connectionPool: { http: { http2MaxRequests: 1 } } } }
  observe: { metrics: [127.0.0.1:1] }
  phases: { baseline: 1s, inject: 1s, recover: 1s }
  hypothesis: {}
`,
      'breaker.yaml',
    );
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    // What --config-dir writes while the network fault is out: the policy alone (a VirtualService marker + the DestinationRule).
    writeFileSync(join(dir, 'meshlet-experiment-breaker.yaml'), overlayYaml(parsed.experiment, false, Date.now() + 8000));
    const two = (): Promise<Reply[]> => Promise.all([send(m.outbound, { host: 'svc' }), send(m.outbound, { host: 'svc' })]);
    const during = await until(async () => {
      const r = await two();
      return r.some((x) => x.status === 503) ? r : undefined;
    }, 6000);
    const over = during.find((x) => x.status === 503)!;
    expect(over.headers['x-meshlet-flags']).toBe('UO');
    expect(during.filter((x) => x.status === 200)).toHaveLength(1);
    await until(() => /experiment fault expired \(TTL\)/.test(m.stderr() + m.stdout()), 20_000);
    expect((await two()).map((x) => x.status)).toEqual([200, 200]);
  });
});
