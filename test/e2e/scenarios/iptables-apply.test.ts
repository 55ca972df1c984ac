// `meshlet iptables --apply` for real, in rig pods that start with no rules:
//  1. in a namespace that already holds Docker's embedded-DNS NAT rules
//     (nat OUTPUT → DOCKER_OUTPUT, DNAT of 127.0.0.11:53), applying keeps them
//     byte for byte and DNS-over-TCP to 127.0.0.11 still reaches its target,
//     applying twice changes nothing, and --cleanup restores the table as it was;
//  2. the init container's exact command, as `meshlet inject` writes it for a
//     pod carrying the traffic.sidecar.meshlet.io/exclude* annotations, run in
//     a pod with a real sidecar: captured traffic goes through the sidecar
//     (REGISTRY_ONLY refuses it), excluded ports and ranges go around it.
// Needs root; skips loudly otherwise.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, until } from '../../support/meshlet-process.js';
import { PodRig, type PodProcess } from '../rig/index.js';
import { RIG_PATH } from '../rig/run-command.js';

const avail = await PodRig.available();
if (!avail.ok) console.warn(`\n!!! E2E SKIPPED: test/e2e/scenarios/iptables-apply.test.ts: pod rig unavailable: ${avail.why ?? '?'} !!!\n`);

const IPS = { docker: '10.244.0.30', app: '10.244.0.31', peer: '10.244.0.32', other: '10.244.0.33' } as const;
const APP_UID = 1000;
const PROXY_UID = 1337;

// What dockerd installs in a container's namespace for its embedded DNS server (iptables-save form).
const DOCKER_RULES = `*nat
:DOCKER_OUTPUT - [0:0]
:DOCKER_POSTROUTING - [0:0]
-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT
-A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING
-A DOCKER_OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:41235
-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:58789
-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport 41235 -j SNAT --to-source :53
-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp -m udp --sport 58789 -j SNAT --to-source :53
COMMIT
`;

/** Says who it is and who connected, then closes: `<name> <peer address>`. */
const WHO_JS = `const [name, ...ports] = process.argv.slice(1);
for (const p of ports) { const [host, port] = p.includes(':') ? p.split(':') : ['0.0.0.0', p];
  require('net').createServer((s) => { s.on('error', () => {}); s.end(name + ':' + port + ' ' + s.remoteAddress + '\\n'); }).listen(Number(port), host); }
console.log('who listening');`;
/** Connects, prints what the server said, or ERR <code> (a reset or refusal). */
const DIAL_JS = `const s = require('net').connect(Number(process.argv[2]), process.argv[1]); let out = '';
s.setTimeout(5000, () => { console.log('ERR timeout'); process.exit(0); });
s.on('data', (d) => (out += d)); s.on('end', () => { console.log(out.trim() || 'ERR empty'); process.exit(0); });
s.on('error', (e) => { console.log('ERR ' + e.code); process.exit(0); });`;

describe.skipIf(!avail.ok)('meshlet iptables --apply in a pod namespace', () => {
  // Every pod starts with an empty nat table: the tests apply the rules themselves.
  const rig = new PodRig({ family: 'ipta' });
  const work = mkdtempSync(join(tmpdir(), 'meshlet-ipta-'));
  const binDir = join(work, 'bin');
  const path = `${binDir}:${dirname(process.execPath)}:${RIG_PATH}`;
  const procs: PodProcess[] = [];
  let keep = process.env['MESHLET_E2E_KEEP'] === '1';

  const sh = async (pod: string, script: string): Promise<string> => {
    // Generous: each step starts node (the CLI), which takes seconds on a loaded machine.
    const r = await rig.exec(pod, '/bin/sh', ['-c', script], { env: { PATH: path }, timeoutMs: 90_000 });
    if (r.code !== 0) throw new Error(`${script} in ${pod}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** The nat table without counters and comments, rule order kept. */
  const natTable = async (pod: string): Promise<string[]> =>
    (await sh(pod, 'iptables-save -t nat')).split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.replace(/ \[\d+:\d+\]$/, ''));
  const dial = async (pod: string, host: string, port: number, uid = APP_UID): Promise<string> =>
    (await rig.exec(pod, process.execPath, ['-e', DIAL_JS, host, String(port)], { uid, timeoutMs: 20_000 })).stdout.trim();
  const who = (pod: string, ...ports: string[]): PodProcess => {
    const p = rig.spawn(pod, { uid: APP_UID, cmd: process.execPath, args: ['-e', WHO_JS, pod, ...ports] });
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    chmodSync(work, 0o777);
    mkdirSync(binDir);
    // The image's /usr/local/bin/meshlet, here: the init container calls `meshlet` from PATH.
    symlinkSync(BIN, join(binDir, 'meshlet'));
    await rig.up(Object.entries(IPS).map(([name, ip]) => ({ name, service: name, ip, interception: null })));
  }, 60_000);

  afterAll(async () => {
    await rig.down();
    if (keep) console.info(`iptables-apply e2e: logs kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it("keeps Docker's DNS rules, is idempotent, and --cleanup removes only its own", async () => {
    await sh('docker', `iptables-restore --noflush <<'EOF'\n${DOCKER_RULES}EOF`);
    const before = await natTable('docker');
    expect(before).toContain('-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT');

    await sh('docker', 'meshlet iptables --apply');
    const applied = await natTable('docker');
    // Every rule that was there is still there, in the same order.
    expect(applied.filter((l) => before.includes(l))).toEqual(before);
    const ours = applied.filter((l) => !before.includes(l));
    expect(ours.filter((l) => l.startsWith(':'))).toEqual([':ISTIO_INBOUND -', ':ISTIO_IN_REDIRECT -', ':ISTIO_OUTPUT -', ':ISTIO_REDIRECT -']);
    expect(ours).toContain('-A PREROUTING -p tcp -j ISTIO_INBOUND');
    expect(ours).toContain('-A OUTPUT -j ISTIO_OUTPUT');
    // Docker's jump comes first (it was there first), so DNS keeps its DNAT.
    expect(applied.indexOf('-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT')).toBeLessThan(applied.indexOf('-A OUTPUT -j ISTIO_OUTPUT'));

    // The rules are live: DNS over TCP to 127.0.0.11:53 still lands on Docker's resolver port,
    // while the app's other outbound TCP is redirected to the sidecar's port 15001.
    const servers = who('docker', '127.0.0.11:41235', '15001');
    await servers.waitForLine(/who listening/, 20_000);
    expect(await dial('docker', '127.0.0.11', 53)).toBe('docker:41235 127.0.0.1');
    expect(await dial('docker', IPS.peer, 80)).toMatch(/^docker:15001 /);

    await sh('docker', 'meshlet iptables --apply');
    expect(await natTable('docker')).toEqual(applied);

    // Re-applied with no inbound capture: the PREROUTING jump goes, nothing else changes.
    await sh('docker', "meshlet iptables --apply --include-inbound-ports ''");
    const noInbound = await natTable('docker');
    expect(noInbound).not.toContain('-A PREROUTING -p tcp -j ISTIO_INBOUND');
    expect(noInbound.filter((l) => before.includes(l))).toEqual(before);

    await sh('docker', 'meshlet iptables --cleanup --apply');
    expect(await natTable('docker')).toEqual(before);
    // Nothing to remove: still fine, still the same.
    await sh('docker', 'meshlet iptables --cleanup --apply');
    expect(await natTable('docker')).toEqual(before);
    expect(await dial('docker', '127.0.0.11', 53)).toBe('docker:41235 127.0.0.1');
    await servers.kill();
  }, 300_000);

  it('the init container command from `meshlet inject`, with exclude annotations, intercepts and excludes as annotated', async () => {
    const podYaml = join(work, 'pod.yaml');
    writeFileSync(
      podYaml,
      `apiVersion: v1
kind: Pod
metadata:
  name: app
  labels: { app: app, version: v1 }
  annotations:
    traffic.sidecar.meshlet.io/excludeInboundPorts: "9091"
    traffic.sidecar.meshlet.io/excludeOutboundPorts: "7001"
    traffic.sidecar.meshlet.io/excludeOutboundIPRanges: "${IPS.other}/32"
spec:
  containers: [{ name: app, image: app:1, ports: [{ containerPort: 9090 }] }]
`,
    );
    const injected = spawnSync(process.execPath, [BIN, 'inject', '-f', podYaml], { encoding: 'utf8' });
    expect(injected.status, injected.stderr).toBe(0);
    const pod = parse(injected.stdout) as { spec: { initContainers: Array<{ name: string; command: string[] }> } };
    const init = pod.spec.initContainers.find((c) => c.name === 'meshlet-init');
    expect(init?.command.slice(0, 3)).toEqual(['meshlet', 'iptables', '--apply']);
    const [cmd, ...args] = init!.command;
    // Exactly what the kubelet would exec (as root, the init container's user), with `meshlet` on PATH.
    const r = await rig.exec('app', cmd!, args, { env: { PATH: path }, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    const table = await natTable('app');
    expect(table).toContain('-A ISTIO_OUTPUT -p tcp -m tcp --dport 7001 -j RETURN');
    expect(table).toContain(`-A ISTIO_OUTPUT -d ${IPS.other}/32 -j RETURN`);

    const config = join(work, 'config');
    mkdirSync(config);
    writeFileSync(join(config, 'mesh.yaml'), '');
    const sidecar = rig.spawn('app', {
      uid: PROXY_UID,
      cmd: process.execPath,
      // --app-port as the injector sets MESHLET_APP_PORT (the first container port); it also turns the inbound listener on.
      args: [BIN, 'proxy', '--config', config, '--workload', 'app', '--labels', 'app=app,version=v1', '--namespace', 'default', '--outbound-traffic-policy', 'REGISTRY_ONLY', '--app-port', '9090', '--access-log', join(work, 'access-app.log')],
      cwd: ROOT,
      logFile: join(work, 'sidecar-app.log'),
    });
    procs.push(sidecar);
    await Promise.all([
      sidecar.waitForLine(/meshlet proxy listening/, 90_000),
      who('app', '9090', '9091').waitForLine(/who listening/, 20_000),
      who('peer', '7000', '7001').waitForLine(/who listening/, 20_000),
      who('other', '7000').waitForLine(/who listening/, 20_000),
    ]).catch((err: Error) => {
      keep = true;
      throw new Error(`${err.message} (logs in ${work})`);
    });

    // Outbound: captured → the sidecar, which under REGISTRY_ONLY refuses the undeclared peer.
    expect(await dial('app', IPS.peer, 7000)).toMatch(/^ERR /);
    // Excluded port and excluded range go straight to the peer.
    expect(await dial('app', IPS.peer, 7001)).toBe(`peer:7001 ${IPS.app}`);
    expect(await dial('app', IPS.other, 7000)).toBe(`other:7000 ${IPS.app}`);
    // The sidecar's own traffic (uid 1337) is never captured.
    expect(await dial('app', IPS.peer, 7000, PROXY_UID)).toBe(`peer:7000 ${IPS.app}`);

    // Inbound: 9091 is excluded (the app sees the caller), 9090 goes through the sidecar
    // to 127.0.0.1:9090 (the app sees a loopback peer).
    expect(await dial('peer', IPS.app, 9091)).toBe(`app:9091 ${IPS.peer}`);
    let last = '';
    await until(async () => ((last = await dial('peer', IPS.app, 9090)).startsWith('app:9090 127.') ? true : undefined), 20_000, 500).catch((err: Error) => {
      keep = true;
      throw new Error(`${err.message}: last answer "${last}" (logs in ${work})`);
    });
  }, 300_000);
});
