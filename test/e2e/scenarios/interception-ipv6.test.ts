// IPv6 interception (issue 12): the ip6tables twin of the rule set. The rig
// turns IPv6 off in its namespaces; here one client pod and one server pod get
// ULA addresses (fd00:244::/64 on the same bridge), and the client pod's
// interception is applied by `meshlet iptables --apply` with the default
// `--ipv6 auto`, which now sees IPv6 and writes the ip6tables rules. Proven:
//  - the ip6tables nat table holds the four chains and both jumps (and a second
//    apply changes nothing), cleanup removes them;
//  - an app's outbound IPv6 TCP connection is redirected to the sidecar, which
//    reads its original destination (IP6T_SO_ORIGINAL_DST) and passes it through
//    (ALLOW_ANY): the access log names the IPv6 destination, the metrics count it;
//  - the proxy's own uid reaches the server directly (no second line).
// The sidecar listens on `::` (dual-stack) so it can accept redirected IPv6.
// Needs root; skips loudly otherwise.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, until } from '../../support/meshlet-process.js';
import { PodRig, type PodProcess } from '../rig/index.js';

const avail = await PodRig.available();
if (!avail.ok) console.warn(`\n!!! E2E SKIPPED: test/e2e/scenarios/interception-ipv6.test.ts: pod rig unavailable: ${avail.why ?? '?'} !!!\n`);

const V4 = { client: '10.244.0.80', server: '10.244.0.81' } as const;
const V6 = { client: 'fd00:244::80', server: 'fd00:244::81' } as const;
const APP_UID = 1000;
const PROXY_UID = 1337;

/** Answers each connection with "hello <peer address>" and closes. */
const SERVER_JS = `require('net').createServer((s) => { s.on('error', () => {}); s.end('hello ' + s.remoteAddress + '\\n'); })
  .listen({ host: '::', port: 7000, ipv6Only: true }, () => console.log('v6 server listening'));`;
/** One connection to [host]:7000; prints what came back, or ERR <code>. */
const CLIENT_JS = `const s = require('net').connect({ host: process.argv[1], port: 7000 }); let b = '';
s.setTimeout(5000, () => { console.log('ERR timeout'); process.exit(0); });
s.on('data', (d) => (b += d)); s.on('end', () => { console.log(b.trim()); process.exit(0); }); s.on('error', (e) => { console.log('ERR ' + e.code); process.exit(0); });`;

/** Turns IPv6 on in a namespace and gives eth0 a ULA address (no DAD: usable at once). */
const enableV6 = (addr: string | null): string =>
  ['set -e', 'for k in all default lo eth0 br0; do [ ! -e /proc/sys/net/ipv6/conf/$k/disable_ipv6 ] || echo 0 > /proc/sys/net/ipv6/conf/$k/disable_ipv6; done', addr === null ? '' : `ip -6 addr add ${addr}/64 dev eth0 nodad`].join('\n');

describe.skipIf(!avail.ok)('IPv6 interception: the ip6tables twin', () => {
  const rig = new PodRig({ family: 'tv6' });
  const work = mkdtempSync(join(tmpdir(), 'meshlet-tv6-'));
  const procs: PodProcess[] = [];
  let keep = process.env['MESHLET_E2E_KEEP'] === '1';

  const inPod = async (pod: string, script: string): Promise<string> => {
    const r = await rig.exec(pod, 'sh', ['-c', script]);
    if (r.code !== 0) throw new Error(`${pod}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const accessLog = (): Array<Record<string, unknown>> => {
    try {
      return readFileSync(join(work, 'access.log'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return [];
    }
  };
  const v6Nat = async (): Promise<string> => inPod('client', 'ip6tables-save -t nat');

  beforeAll(async () => {
    try {
      chmodSync(work, 0o777);
      mkdirSync(join(work, 'config'));
      writeFileSync(join(work, 'config', 'mesh.yaml'), '');
      // The client's rules are applied below, once it has IPv6.
      await rig.up([
        { name: 'client', service: 'client', ip: V4.client, interception: null },
        { name: 'server', service: 'server', ip: V4.server, interception: null },
      ]);
      // The node's bridge only switches frames; IPv6 on so it does not drop them.
      const node = rig.runInNode('sh', ['-c', enableV6(null)]);
      await node.exited;
      await inPod('client', enableV6(V6.client));
      await inPod('server', enableV6(V6.server));
      const server = rig.spawn('server', { uid: APP_UID, cmd: process.execPath, args: ['-e', SERVER_JS] });
      procs.push(server);
      await server.waitForLine(/v6 server listening/, 20_000);
      const sidecar = rig.spawn('client', {
        uid: PROXY_UID,
        cmd: process.execPath,
        args: [BIN, 'proxy', '--config', join(work, 'config'), '--workload', 'client', '--app-port', '9999', '--listen-address', '::', '--access-log', join(work, 'access.log')],
        cwd: ROOT,
        logFile: join(work, 'sidecar.log'),
      });
      procs.push(sidecar);
      await sidecar.waitForLine(/meshlet proxy listening/, 90_000);
    } catch (err) {
      keep = true;
      throw new Error(`ipv6 bring-up failed (logs kept in ${work}): ${(err as Error).message}`);
    }
  }, 150_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await rig.down();
    if (keep) console.info(`ipv6 e2e: logs kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('meshlet iptables --apply (default --ipv6 auto) writes the ip6tables twin once IPv6 is up, idempotently', async () => {
    const apply = async (): Promise<void> => {
      const r = await rig.exec('client', process.execPath, [BIN, 'iptables', '--apply']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    };
    await apply();
    const first = await v6Nat();
    for (const rule of ['-A OUTPUT -j ISTIO_OUTPUT', '-A PREROUTING -p tcp -j ISTIO_INBOUND', '-A ISTIO_OUTPUT -d ::1/128 -j RETURN', '-A ISTIO_OUTPUT -s ::6/128 -o lo -j RETURN', '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001']) {
      expect(first).toContain(rule);
    }
    await apply();
    // Rules and chains, without the save's timestamps and packet counters.
    const rules = (t: string): string[] => t.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith(':')).map((l) => l.replace(/\[\d+:\d+\]$/, ''));
    expect(rules(await v6Nat())).toEqual(rules(first));
    expect(rules(first).filter((l) => l === '-A OUTPUT -j ISTIO_OUTPUT')).toHaveLength(1);
  }, 60_000);

  it("an app's outbound IPv6 TCP goes through the sidecar, which reads the IPv6 original destination; the proxy's uid goes direct", async () => {
    const app = await rig.exec('client', process.execPath, ['-e', CLIENT_JS, V6.server], { uid: APP_UID });
    expect(app.stdout.trim()).toBe(`hello ${V6.client}`);
    const line = await until(() => accessLog().find((e) => e['original_dst'] === `[${V6.server}]:7000`), 10_000).catch((err: Error) => {
      keep = true;
      throw new Error(`${err.message}; access log: ${JSON.stringify(accessLog())}`);
    });
    expect(line).toMatchObject({ direction: 'outbound', protocol: 'tcp', upstream_host: `[${V6.server}]:7000`, upstream_cluster: 'PassthroughCluster', response_flags: '-', bytes_sent: `hello ${V6.client}\n`.length });
    expect(String(line['downstream_remote'])).toMatch(new RegExp(`^\\[${V6.client}\\]:\\d+$`));
    // Not captured: the sidecar's own uid.
    const before = accessLog().length;
    const direct = await rig.exec('client', process.execPath, ['-e', CLIENT_JS, V6.server], { uid: PROXY_UID });
    expect(direct.stdout.trim()).toBe(`hello ${V6.client}`);
    const again = await rig.exec('client', process.execPath, ['-e', CLIENT_JS, V6.server], { uid: APP_UID });
    expect(again.stdout.trim()).toBe(`hello ${V6.client}`);
    await until(() => (accessLog().length >= before + 1 ? true : undefined), 10_000);
    // Exactly one more line: the app's second connection, not the proxy uid's (made before it).
    expect(accessLog().filter((e) => e['original_dst'] === `[${V6.server}]:7000`)).toHaveLength(2);
  }, 60_000);

  it('--cleanup --apply removes the IPv6 chains and jumps too', async () => {
    const r = await rig.exec('client', process.execPath, [BIN, 'iptables', '--cleanup', '--apply']);
    expect(r.code).toBe(0);
    const after = await v6Nat();
    expect(after).not.toContain('ISTIO_');
    expect(await inPod('client', 'iptables-save -t nat')).not.toContain('ISTIO_');
  }, 30_000);
});
