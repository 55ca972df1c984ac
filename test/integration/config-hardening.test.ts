// Config that would hurt, through a real meshlet process: RE2 regexes match in
// linear time (a ReDoS pattern cannot freeze the event loop), the program-size
// limit refuses huge regexes at load, and path normalization keeps a policy on
// /admin from being walked around.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { BIN, serviceEntry, tempConfig } from '../support/meshlet-process.js';
import { testScope } from '../support/scope.js';

const scope = testScope();

const vs = (http: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc }
spec:
  hosts: [svc]
  http:
${http}`;

describe('regexes are RE2', () => {
  it('a catastrophic-backtracking pattern answers at once and the admin port stays responsive', async () => {
    const up = await scope.upstream('app');
    const m = await scope.meshlet(
      serviceEntry('svc', [up.port]) +
        vs(`    - match: [{ uri: { regex: "/redos/(a+)+" } }]
      directResponse: { status: 200, body: { string: "matched" } }
    - route: [{ destination: { host: svc } }]
`),
    );
    // With a backtracking engine, 30 characters took 11 s (doubling per
    // character); 40 would take hours. RE2 answers in linear time.
    const evil = '/redos/' + 'a'.repeat(40) + '!';
    const [r, ready] = await Promise.all([send(m.outbound, { host: 'svc', path: evil, timeoutMs: 5000 }), send(m.admin, { path: '/ready', timeoutMs: 5000 })]);
    expect(r.status).toBe(200);
    expect(up.received.at(-1)?.url).toBe(evil);
    expect(ready.status).toBe(200);
    expect((await send(m.outbound, { host: 'svc', path: '/redos/aaaa' })).body).toBe('matched');
  });

  it('RE2-only syntax works; lookahead is refused at load; a program over --max-regex-program-size is refused at load', async () => {
    const up = await scope.upstream('app');
    const m = await scope.meshlet(
      serviceEntry('svc', [up.port]) +
        vs(`    - match: [{ uri: { regex: "/v[[:digit:]]+/\\\\pL+" }, headers: { x-user: { regex: "(?i)jason" } } }]
      directResponse: { status: 299 }
    - route: [{ destination: { host: svc } }]
`),
    );
    expect((await send(m.outbound, { host: 'svc', path: '/v12/hello', headers: { 'x-user': 'JASON' } })).status).toBe(299);
    expect((await send(m.outbound, { host: 'svc', path: '/vx/hello', headers: { 'x-user': 'JASON' } })).status).toBe(200);

    const start = (yaml: string, args: string[] = []) =>
      spawnSync(process.execPath, [BIN, 'proxy', '--config', tempConfig({ 'c.yaml': yaml }), '--outbound-port', '0', '--admin-port', '0', '--metrics-port', 'off', ...args], {
        encoding: 'utf8',
        timeout: 20_000,
      });
    const look = start(serviceEntry('svc', [up.port]) + vs('    - match: [{ uri: { regex: "/(?=admin).*" } }]\n      route: [{ destination: { host: svc } }]\n'));
    expect(look.status).toBe(1);
    expect(look.stderr).toContain('spec.http[0].match[0].uri.regex: lookahead/lookbehind is not RE2 syntax');
    const big = start(serviceEntry('svc', [up.port]) + vs('    - match: [{ uri: { regex: "/redos/(a+)+" } }]\n      route: [{ destination: { host: svc } }]\n'), ['--max-regex-program-size', '10']);
    expect(big.status).toBe(1);
    expect(big.stderr).toMatch(/regex program size 14 exceeds the limit 10 \(--max-regex-program-size/);
  });
});

describe('path normalization', () => {
  const config = (port: number): string =>
    serviceEntry('svc', [port]) +
    vs(`    - match: [{ uri: { prefix: /admin } }]
      directResponse: { status: 403, body: { string: "no" } }
    - route: [{ destination: { host: svc } }]
`);

  it('BASE (default): escapes, . and .. cannot walk around a prefix policy; the upstream gets the normalized path', async () => {
    const up = await scope.upstream('app');
    const m = await scope.meshlet(config(up.port));
    for (const path of ['/admin', '/%61dmin', '/x/../admin', '/./admin', '/%2e%2e/admin/x', '/ADMIN/../admin']) {
      expect({ path, status: (await send(m.outbound, { host: 'svc', path })).status }).toEqual({ path, status: 403 });
    }
    expect((await send(m.outbound, { host: 'svc', path: '/a/./b/../%7euser?q=%61' })).status).toBe(200);
    expect(up.received.at(-1)?.url).toBe('/a/~user?q=%61');
    // BASE keeps double slashes, as Istio's BASE does.
    expect((await send(m.outbound, { host: 'svc', path: '//admin' })).status).toBe(200);
    expect(up.received.at(-1)?.url).toBe('//admin');
  });

  it('MERGE_SLASHES also refuses //admin; NONE passes paths as received (the old behaviour)', async () => {
    const up = await scope.upstream('app');
    const merge = await scope.meshlet(config(up.port), ['--path-normalization', 'MERGE_SLASHES']);
    expect((await send(merge.outbound, { host: 'svc', path: '//admin' })).status).toBe(403);
    expect((await send(merge.outbound, { host: 'svc', path: '//x//y' })).status).toBe(200);
    expect(up.received.at(-1)?.url).toBe('/x/y');
    const none = await scope.meshlet(config(up.port), ['--path-normalization', 'NONE']);
    expect((await send(none.outbound, { host: 'svc', path: '/%61dmin' })).status).toBe(200);
    expect(up.received.at(-1)?.url).toBe('/%61dmin');
  });

  it('a bad --path-normalization value is one clear line, no stack trace', () => {
    const r = spawnSync(process.execPath, [BIN, 'proxy', '--config', '/nonexistent', '--path-normalization', 'SOMETIMES'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('meshlet proxy: --path-normalization must be one of NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES, got "SOMETIMES"');
  });
});

describe('per-sidecar match conditions', () => {
  it('sourceLabels / sourceNamespace apply only on the sidecar they name (a match holding only sourceLabels used to match everyone)', async () => {
    const up = await scope.upstream('app');
    const yaml =
      serviceEntry('svc', [up.port]) +
      vs(`    - match: [{ sourceLabels: { app: legacy } }, { sourceNamespace: batch, uri: { prefix: /jobs } }]
      directResponse: { status: 403, body: { string: "not for you" } }
    - route: [{ destination: { host: svc } }]
`);
    const other = await scope.meshlet(yaml, ['--labels', 'app=productpage,version=v1']);
    expect((await send(other.outbound, { host: 'svc', path: '/x' })).status).toBe(200);
    expect((await send(other.outbound, { host: 'svc', path: '/jobs' })).status).toBe(200);
    const legacy = await scope.meshlet(yaml, ['--labels', 'app=legacy,version=v1']);
    expect((await send(legacy.outbound, { host: 'svc', path: '/x' })).status).toBe(403);
    const batch = await scope.meshlet(yaml, ['--namespace', 'batch', '--labels', 'app=cron']);
    expect((await send(batch.outbound, { host: 'svc.default', path: '/jobs' })).status).toBe(403);
    expect((await send(batch.outbound, { host: 'svc.default', path: '/x' })).status).toBe(200);
  });
});
