// MESHLET_UPSTREAM_HTTP1_CLIENT=node (issue 17's memory option): HTTP/1.1 upstream
// requests through node:http's client instead of undici. The default path is the
// rest of the suite; this file keeps the opt-in path exercised in CI: a real
// sidecar process started with the variable, real upstreams.
import { describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { serviceEntry, svcRoute } from '../support/meshlet-process.js';
import { closedPort, testScope } from '../support/scope.js';
import type { Behaviour } from '../support/upstream.js';

// startMeshlet passes this worker's environment to the sidecar it spawns.
process.env['MESHLET_UPSTREAM_HTTP1_CLIENT'] = 'node';

const scope = testScope();
const hang: Behaviour = () => undefined;

describe('HTTP/1.1 upstreams through node:http (MESHLET_UPSTREAM_HTTP1_CLIENT=node)', () => {
  it('forwards request and body, keeps repeated response headers, and reuses the connection', async () => {
    const raw: string[][] = [];
    const up = await scope.upstream('echo', (req, res, body) => {
      raw.push(req.rawHeaders);
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-dup', ['one', 'two']);
      res.end(`got ${body.length} from ${req.socket.remotePort}`);
    });
    const m = await scope.meshlet(serviceEntry('svc', [up.port]) + svcRoute(''));
    const r = await send(m.outbound, { host: 'svc', method: 'POST', path: '/p', body: 'x'.repeat(5000) });
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^got 5000 from /);
    expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(r.headers['x-dup']).toBe('one, two');
    // node:http's client writes its own `Connection: keep-alive` capitalised; undici writes it lower-case: this is the node path.
    expect(raw[0]).toContain('Connection');
    expect(up.received[0]!.headers['connection']).toBe('keep-alive');
    const again = await send(m.outbound, { host: 'svc', path: '/q' });
    expect(again.body.split(' from ')[1]).toBe(r.body.split(' from ')[1]);
  });

  it('retries a 503 on the same rules, and a refused connection is 503 UF', async () => {
    const up = await scope.upstream('flaky', (_req, res, _b, n) => {
      res.statusCode = n === 1 ? 503 : 200;
      res.end(String(n));
    });
    const m = await scope.meshlet(serviceEntry('svc', [up.port]) + svcRoute('      retries: { attempts: 2, retryOn: 5xx }\n') + '---\n' + serviceEntry('gone', [await closedPort()]));
    const r = await send(m.outbound, { host: 'svc' });
    expect(r.status).toBe(200);
    expect(up.received.map((x) => x.headers['x-envoy-attempt-count'])).toEqual(['1', '2']);
    const refused = await send(m.outbound, { host: 'gone' });
    expect(refused.status).toBe(503);
    expect(String(refused.headers['x-meshlet-flags'])).toMatch(/^UF/);
  });

  it('a hanging upstream ends at the route timeout: 504 UT', async () => {
    const up = await scope.upstream('slow', hang);
    const m = await scope.meshlet(serviceEntry('svc', [up.port]) + svcRoute('      timeout: 300ms\n'));
    const r = await send(m.outbound, { host: 'svc' });
    expect(r.status).toBe(504);
    expect(String(r.headers['x-meshlet-flags'])).toContain('UT');
  });
});
