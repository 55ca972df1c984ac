// Config reloads (good ones swap atomically under traffic, bad ones are
// rejected and the last good config keeps serving), malformed input, and the
// 5xx replies for upstream failures.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, send, statusOf } from '../support/http-client.js';
import { BIN, serviceEntry, startMeshlet, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { closedPort } from '../support/scope.js';

let a: Upstream;
let b: Upstream;
let dir: string;
let mesh: MeshletProc;

const vs = (subset: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc }
spec:
  host: svc
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc }
spec:
  hosts: [svc]
  http:
    - route: [{ destination: { host: svc, subset: ${subset} } }]
`;

beforeAll(async () => {
  a = await startUpstream('a');
  b = await startUpstream('b');
  dir = tempConfig({ 'se.yaml': serviceEntry('svc', [a.port, b.port]), 'vs.yaml': vs('v1') });
  mesh = await startMeshlet(['--config', dir, '--access-log', 'off']);
});
afterAll(async () => {
  await mesh?.stop();
  await a?.close();
  await b?.close();
});

describe('reload', () => {
  it('swaps a good config under traffic without a failed request, and rejects a bad one while the last good keeps serving', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const seen = new Map<string, number>();
    let failures = 0;
    let stop = false;
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 3000 && !stop; i++) {
        const r = await send(mesh.outbound, { host: 'svc', agent });
        if (r.status !== 200) failures++;
        else {
          const n = (JSON.parse(r.body) as { name: string }).name;
          seen.set(n, (seen.get(n) ?? 0) + 1);
        }
      }
    };
    const traffic = Promise.all([loop(), loop(), loop(), loop()]);
    await until(() => ((seen.get('a') ?? 0) > 20 ? true : undefined));
    writeFileSync(`${dir}/vs.yaml`, vs('v2'));
    await until(() => ((seen.get('b') ?? 0) > 20 ? true : undefined));

    // A bad config: an unknown subset and a misspelled field, reported together.
    writeFileSync(
      `${dir}/vs.yaml`,
      vs('v9').replace('subset: v9 } }]', 'subset: v9 }, weigth: 50 }, { destination: { host: svc, subset: v1 }, weight: 20 }]'),
    );
    const dump = await until(async () => {
      const r = await send(mesh.admin, { path: '/config_dump' });
      const j = JSON.parse(r.body) as { last_rejection: { issues: string[] } | null };
      return j.last_rejection !== null ? j : undefined;
    });
    const issues = dump.last_rejection!.issues.join('\n');
    expect(issues).toContain('vs.yaml');
    expect(issues).toContain('VirtualService/default/svc');
    expect(issues).toMatch(/spec\.http\[0\]\.route/);
    expect(issues).toMatch(/spec\.http\[0\]\.route\[0\]\.weigth: unknown field "weigth" \(did you mean `weight`\?\)/);
    const before = seen.get('b') ?? 0;
    await until(() => ((seen.get('b') ?? 0) > before + 50 ? true : undefined));
    stop = true;
    await traffic;
    agent.destroy();
    expect(failures).toBe(0);
    expect(mesh.stderr()).toContain('config rejected');
  });

  it('refuses to start on a bad config, naming file, resource, field and reason', () => {
    const bad = tempConfig({
      'x.yaml': `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: broken }
spec:
  hosts: [nowhere]
  http:
    - route: [{ destination: { host: nowhere }, weight: 50 }, { destination: { host: nowhere }, weigth: 20 }]
`,
    });
    const r = spawnSync(process.execPath, [BIN, 'proxy', '--config', bad, '--outbound-port', '0', '--admin-port', '0', '--metrics-port', 'off'], { encoding: 'utf8', timeout: 15000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('x.yaml');
    expect(r.stderr).toContain('VirtualService/default/broken');
    expect(r.stderr).toMatch(/route\[1\]\.weigth: unknown field "weigth" \(did you mean `weight`\?\)/);
    expect(r.stderr).not.toMatch(/    at /); // no stack trace
  });
});

describe('malformed input', () => {
  it('answers 400 to a bad request line and to CL+TE, 431 to oversize headers, and keeps serving others', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await send(mesh.outbound, { host: 'svc', agent })).status).toBe(200);
    expect(statusOf(await rawExchange(mesh.outbound, 'GARBAGE\r\n\r\n'))).toBe(400);
    expect(
      statusOf(await rawExchange(mesh.outbound, 'POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')),
    ).toBe(400);
    const big = 'x'.repeat(70 * 1024);
    const r431 = await rawExchange(mesh.outbound, `GET / HTTP/1.1\r\nHost: svc\r\nX-Big: ${big}\r\n\r\n`);
    expect(statusOf(r431)).toBe(431);
    // Headers just under the 60 KiB limit still pass.
    expect((await send(mesh.outbound, { host: 'svc', headers: { 'x-big': 'y'.repeat(50 * 1024) } })).status).toBe(200);
    // The earlier keep-alive connection is unharmed.
    expect((await send(mesh.outbound, { host: 'svc', agent })).status).toBe(200);
    agent.destroy();
  });
});

describe('upstream failures', () => {
  it('503 UF on connect failure, 502 UC on reset, 503 UH with no endpoint, each with a short reason', async () => {
    const closed = await closedPort();
    const resetter = await startUpstream('reset', (req) => {
      req.socket.destroy();
    });
    const cfg = tempConfig({
      'c.yaml':
        serviceEntry('down', [closed]) +
        serviceEntry('reset', [resetter.port]) +
        `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: empty }
spec:
  hosts: [empty]
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: []
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: noretry }
spec:
  hosts: [down, reset]
  http:
    - match: [{ authority: { prefix: down } }]
      retries: { attempts: 0 }
      route: [{ destination: { host: down } }]
    - retries: { attempts: 0 }
      route: [{ destination: { host: reset } }]
`,
    });
    const m = await startMeshlet(['--config', cfg, '--access-log', 'off']);
    try {
      const uf = await send(m.outbound, { host: 'down' });
      expect(uf.status).toBe(503);
      expect(uf.headers['x-meshlet-flags']).toBe('UF');
      expect(uf.body).toMatch(/connect/);
      const uc = await send(m.outbound, { host: 'reset' });
      expect(uc.status).toBe(502);
      expect(uc.headers['x-meshlet-flags']).toBe('UC');
      const uh = await send(m.outbound, { host: 'empty' });
      expect(uh.status).toBe(503);
      expect(uh.headers['x-meshlet-flags']).toBe('UH');
    } finally {
      await m.stop();
      await resetter.close();
    }
  });
});

describe('an upstream that sends a malformed response', () => {
  it('answers 502 UPE and keeps serving', async () => {
    // A raw upstream sending a header value with a control character.
    const { createServer: createTcp } = await import('node:net');
    const raw = createTcp((sock) => {
      sock.once('data', () => {
        sock.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-bad: a\u0001b\r\n\r\nok');
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    const port = (raw.address() as { port: number }).port;
    const m = await startMeshlet(['--config', tempConfig({ 'c.yaml': serviceEntry('odd', [port]) }), '--access-log', 'off']);
    try {
      const r = await send(m.outbound, { host: 'odd' });
      expect(r.status).toBe(502);
      expect(r.headers['x-meshlet-flags']).toContain('UPE');
      // The proxy is still alive and serving.
      expect((await send(m.admin, { path: '/ready' })).status).toBe(200);
    } finally {
      await m.stop();
      raw.close();
    }
  });
});
