// Issue 10 item 10: every rejected config is visible in /config_dump
// `last_rejection` and in meshlet_config_rejections_total, in standalone mode
// (YAML parse error, YAML alias bomb, validation error) and in sidecar mode
// (a snapshot the sidecar NACKs). The sidecar case uses a stand-in control
// plane speaking the real MeshDiscovery protocol, because the real control
// plane validates and so never sends a config a sidecar would reject.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, Server, ServerCredentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDiscoveryProto } from '../../proto/load.js';
import type { MeshDiscoveryHandlers } from '../../proto/gen/meshlet/v1/MeshDiscovery.js';
import { send } from '../support/http-client.js';
import { serviceEntry, startMeshlet, tempConfig, until, type MeshletProc } from '../support/meshlet-process.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Dump {
  version: string | null;
  last_rejection: { version: string | null; at: string; issues: string[] } | null;
}
const dump = async (m: MeshletProc): Promise<Dump> => JSON.parse((await send(m.admin, { path: '/config_dump' })).body) as Dump;
const rejections = async (m: MeshletProc): Promise<number> => {
  const text = (await send(m.metrics, { path: '/stats/prometheus' })).body;
  return Number(/^meshlet_config_rejections_total (\d+)/m.exec(text)?.[1] ?? 'NaN');
};

const ALIAS_BOMB = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]', 'f: [*e, *e, *e, *e, *e, *e, *e, *e, *e]'].join('\n');

describe('rejected configs are visible', () => {
  it('standalone: parse error, alias bomb and validation error each show in last_rejection and the counter; the last good config keeps serving', async () => {
    const up: Upstream = await startUpstream('up');
    cleanups.push(() => up.close());
    const dir = tempConfig({ 'se.yaml': serviceEntry('svc', [up.port], { servicePort: 80 }) });
    const m = await startMeshlet(['--config', dir, '--access-log', 'off']);
    cleanups.push(() => m.stop());
    expect(await rejections(m)).toBe(0);
    expect((await dump(m)).last_rejection).toBeNull();

    const bad: [string, string, RegExp][] = [
      ['parse error', 'kind: [unclosed\n', /YAML/],
      ['alias bomb', ALIAS_BOMB, /alias/i],
      ['validation error', 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: x }\nspec: { host: svc, trafficPolicy: { loadBalancer: { simple: BOGUS } } }\n', /BOGUS|simple/],
    ];
    let count = 0;
    let lastAt = '';
    for (const [what, text, reason] of bad) {
      writeFileSync(join(dir, 'bad.yaml'), text);
      m.proc.kill('SIGHUP');
      count++;
      await until(async () => (await rejections(m)) === count, 10_000, 50).catch(() => {
        throw new Error(`${what}: counter did not reach ${count}\n${m.stderr()}`);
      });
      const d = await dump(m);
      expect(d.last_rejection, what).not.toBeNull();
      expect(d.last_rejection!.at, what).not.toBe(lastAt);
      expect(d.last_rejection!.issues.join('\n'), what).toMatch(reason);
      lastAt = d.last_rejection!.at;
      expect((await send(m.outbound, { host: 'svc' })).status, what).toBe(200);
    }
  }, 60_000);

  it('sidecar: a snapshot the sidecar NACKs shows in last_rejection and the counter', async () => {
    const grpc = new Server();
    const proto = loadDiscoveryProto();
    let acks = 0;
    let nacks = 0;
    const handlers: Partial<MeshDiscoveryHandlers> = {
      StreamConfig: (call) => {
        call.sendMetadata(new Metadata());
        call.on('data', (req: { kind?: string }) => {
          if (req.kind === 'subscribe') {
            call.write({ version: 'bad-1', nonce: 'n1', controlPlaneId: 'stand-in', resources: [{ kind: 'cluster', name: 'c', body: '{not json', ttlMs: 0 }] });
          } else if (req.kind === 'nack') nacks++;
          else if (req.kind === 'ack') acks++;
        });
        call.on('error', () => undefined);
      },
    };
    grpc.addService(proto.meshlet.v1.MeshDiscovery.service, handlers as MeshDiscoveryHandlers);
    const port = await new Promise<number>((resolve, reject) => grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    cleanups.push(() => grpc.forceShutdown());
    const m = await startMeshlet(['--control-plane', `127.0.0.1:${port}`, '--insecure', '--access-log', 'off']);
    cleanups.push(() => m.stop());
    await until(() => nacks > 0, 10_000, 50);
    expect(acks).toBe(0);
    await until(async () => (await rejections(m)) === 1, 5000, 50);
    const d = await dump(m);
    expect(d.last_rejection?.version).toBe('bad-1');
    expect(d.last_rejection?.issues.join('\n')).toMatch(/cluster/);
  }, 30_000);
});
