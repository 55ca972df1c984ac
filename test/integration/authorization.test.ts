// AuthorizationPolicy enforced by a real sidecar process on its inbound side:
// real HTTP and gRPC callers, the real app behind it. Denied: 403
// `RBAC: access denied`, flag RBAC (header and access log), gRPC
// PERMISSION_DENIED, and the app never sees the request; all counted.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { echoClient, grpc, startEchoServer, unary, type EchoServer } from '../support/grpc-echo.js';
import { send } from '../support/http-client.js';
import { startMeshlet, until } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';

const scope = testScope();
const servers: EchoServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const ap = (name: string, spec: string): string => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: ${name}, namespace: default }\nspec:\n${spec}\n---\n`;

const POLICIES =
  ap('viewer', '  selector: { matchLabels: { app: reviews } }\n  rules: [{ to: [{ operation: { methods: [GET], paths: ["/public/*"] } }] }]') +
  ap('blocked', '  action: DENY\n  rules: [{ when: [{ key: "request.headers[x-block]", values: ["yes"] }] }]') +
  ap('audit-reads', '  action: AUDIT\n  rules: [{ to: [{ operation: { paths: ["/public/audited"] } }] }]') +
  ap('for-ratings', '  selector: { matchLabels: { app: ratings } }\n  action: DENY\n  rules: [{}]');

async function metrics(port: number): Promise<string> {
  return (await send(port, { path: '/stats/prometheus' })).body;
}

describe('AuthorizationPolicy on the inbound side (real sidecar process)', () => {
  it('HTTP: ALLOW by method and path, DENY by header, AUDIT logs only; 403 RBAC, counted, app untouched', async () => {
    const app = await scope.upstream('reviews');
    const logDir = mkdtempSync(join(tmpdir(), 'meshlet-authz-'));
    const log = join(logDir, 'access.log');
    const sc = await scope.meshlet(POLICIES, ['--app-port', String(app.port), '--labels', 'app=reviews,version=v1', '--namespace', 'default', '--access-log', log]);

    expect((await send(sc.inbound, { path: '/public/a' })).status).toBe(200);
    const post = await send(sc.inbound, { method: 'POST', path: '/public/a', body: 'x' });
    expect(post.status).toBe(403);
    expect(post.body).toBe('RBAC: access denied\n');
    expect(post.headers['x-meshlet-flags']).toBe('RBAC');
    expect((await send(sc.inbound, { path: '/private' })).status).toBe(403);
    const blocked = await send(sc.inbound, { path: '/public/a', headers: { 'x-block': 'yes' } });
    expect(blocked.status).toBe(403);
    expect((await send(sc.inbound, { path: '/public/audited' })).status).toBe(200);
    // Only the two allowed requests reached the app.
    expect(app.received.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /public/a', 'GET /public/audited']);

    const m = await metrics(sc.metrics);
    expect(m).toMatch(/meshlet_authorization_total\{decision="denied",policy="",protocol="http"\} 2/);
    expect(m).toMatch(/meshlet_authorization_total\{decision="denied",policy="default\/blocked",protocol="http"\} 1/);
    expect(m).toMatch(/meshlet_authorization_total\{decision="audited",policy="default\/audit-reads",protocol="http"\} 1/);
    expect(m).toMatch(/istio_requests_total\{[^}]*response_code="403"[^}]*response_flags="RBAC"[^}]*\} 3/);

    const lines = await until(() => {
      const l = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
      return l.length >= 5 ? l.map((x) => JSON.parse(x) as { path: string; response_code: number; response_flags: string; detail: string | null }) : undefined;
    });
    const denied = lines.filter((l) => l.response_code === 403);
    expect(denied).toHaveLength(3);
    expect(denied.every((l) => l.response_flags === 'RBAC')).toBe(true);
    expect(denied.map((l) => l.detail).sort()).toEqual([
      'rbac_access_denied_matched_policy[default/blocked]',
      'rbac_access_denied_matched_policy[none]',
      'rbac_access_denied_matched_policy[none]',
    ]);
    expect(lines.find((l) => l.path === '/public/audited')?.detail).toBe('rbac_audit_matched_policy[default/audit-reads]');
  });

  it('a policy that selects other workloads, or no policy, changes nothing', async () => {
    const app = await scope.upstream('details');
    const sc = await scope.meshlet(ap('only-ratings', '  selector: { matchLabels: { app: ratings } }\n  rules: []'), ['--app-port', String(app.port), '--labels', 'app=details']);
    expect((await send(sc.inbound, { method: 'DELETE', path: '/x' })).status).toBe(200);
    expect(await metrics(sc.metrics)).not.toMatch(/meshlet_authorization_total\{/);
  });

  it('gRPC: a denied call gets PERMISSION_DENIED (7) in a trailers-only reply, the app never sees it', async () => {
    const echo = await startEchoServer('echo');
    servers.push(echo);
    const sc = await scope.meshlet(ap('only-unary', '  rules: [{ to: [{ operation: { paths: ["/meshlet.test.Echo/Unary"] } }] }]'), ['--app-port', String(echo.port), '--labels', 'app=echo']);
    const client = echoClient(sc.inbound, 'echo');
    try {
      expect((await unary(client, 'Unary', { text: 'hi' })).server).toBe('echo');
      const err = (await unary(client, 'Other', { text: 'hi' }).then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      )) as grpc.ServiceError | undefined;
      expect(err?.code).toBe(grpc.status.PERMISSION_DENIED);
      expect(err?.details).toBe('RBAC: access denied');
      expect(echo.calls.map((c) => c.method)).toEqual(['Unary']);
    } finally {
      client.close();
    }
  });

  it('a policy change applies to the next request (hot reload), and a bad policy is refused with its field while the last good one keeps enforcing', async () => {
    const app = await scope.upstream('reviews');
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-authz-reload-'));
    const file = join(dir, 'p.yaml');
    writeFileSync(file, ap('deny-all', '  {}'));
    const sc = await startMeshlet(['--config', dir, '--access-log', 'off', '--app-port', String(app.port), '--labels', 'app=reviews']);
    scope.onTeardown(() => void sc.stop());
    expect((await send(sc.inbound, { path: '/' })).status).toBe(403);
    writeFileSync(file, ap('deny-all', '  action: CUSTOM'));
    await until(() => (/CUSTOM is not supported/.test(sc.stderr()) ? true : undefined));
    expect((await send(sc.inbound, { path: '/' })).status).toBe(403);
    writeFileSync(file, ap('allow-all', '  rules: [{}]'));
    await until(async () => ((await send(sc.inbound, { path: '/' })).status === 200 ? true : undefined));
  });
});
