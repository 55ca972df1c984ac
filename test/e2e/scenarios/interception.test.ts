// Transparent interception end to end (issue 12): a client pod whose app
// knows nothing of the mesh, under Istio's iptables rules, reaches real
// servers from Debian's packages through its sidecar: redis-server (declared
// TCP service with a VIP, and undeclared), PostgreSQL (undeclared: sniffed as
// TCP), a server-first banner protocol (undeclared: the detection timeout),
// nginx TLS by SNI (undeclared, and declared with a 50/50 tls route),
// and plain HTTP to a host outside every ServiceEntry. Every server pod has
// its own sidecar, so the inbound side (127.0.0.1:<original port>) is proven
// too: the web pod serves HTTP on 9080 and a TCP echo on 9090.
// Then a Sidecar resource switches to REGISTRY_ONLY: undeclared traffic is
// refused, declared traffic still flows. Exact istio_tcp_* counts are read
// back through a real Prometheus. Needs root; skips loudly otherwise.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, until } from '../../support/meshlet-process.js';
import { PodRig, runCommand, type PodProcess } from '../rig/index.js';
import { RIG_PATH } from '../rig/run-command.js';
import type { HttpAnswer } from '../mesh-rig.js';
import { prometheusInstalled, promQuery, promTargetsUp, startPrometheus, sumSamples } from '../mesh/prom.js';
import { ECHO_VIP, MESH_YAML, POD_IPS, REDIS_VIP, REGISTRY_ONLY_YAML, SECURE_ADDR, SLOW_HTTP_ADDR } from '../interception/config.js';
import {
  APP_UID,
  BANNER_CLIENT_JS,
  ECHO_CLIENT_JS,
  SLOW_HTTP_CLIENT_JS,
  makeCert,
  missingServerBinaries,
  startBanner,
  startPostgres,
  startRedis,
  startTlsServer,
  startWeb,
  tlsServerReady,
} from '../interception/servers.js';

const avail = await PodRig.available();
const missing = avail.ok ? missingServerBinaries() : [];
const havePrometheus = avail.ok && (await prometheusInstalled());
if (!avail.ok) console.warn(`\n!!! E2E SKIPPED: test/e2e/scenarios/interception.test.ts: pod rig unavailable: ${avail.why ?? '?'} !!!\n`);
else if (missing.length > 0) console.warn(`\n!!! E2E SKIPPED: test/e2e/scenarios/interception.test.ts: missing Debian packages: ${missing.join(' ')} (apt-get install them) !!!\n`);
else if (!havePrometheus) console.warn('\n!!! E2E SKIPPED (Prometheus check only): no `prometheus` binary !!!\n');

const PROXY_UID = 1337;
type PodName = keyof typeof POD_IPS;
const APP_PORTS: Record<PodName, number> = { client: 8080, redis: 6379, pg: 5432, banner: 2525, 'tls-a': 8443, 'tls-b': 8443, web: 9080 };

describe.skipIf(!avail.ok || missing.length > 0)('interception in the pod rig: real servers, undeclared and declared', () => {
  const rig = new PodRig({ family: 'icpt' });
  const work = mkdtempSync(join(tmpdir(), 'meshlet-icpt-'));
  const configDir = join(work, 'config');
  const sidecars = new Map<PodName, PodProcess>();
  let keep = process.env['MESHLET_E2E_KEEP'] === '1';
  const host = {
    work,
    rig,
    nodeGet: async (url: string): Promise<HttpAnswer> => {
      const r = await runCommand('ip', ['netns', 'exec', rig.nodeNs, 'curl', '-s', '--max-time', '5', '-w', '\n%{http_code}', url], { env: { PATH: RIG_PATH }, allowFail: true, timeoutMs: 10_000 });
      const nl = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(nl + 1)) || 0, body: r.stdout.slice(0, Math.max(0, nl)) };
    },
  };
  let prometheus: PodProcess | undefined;

  /** A command in the client pod as the app's uid: every connection it makes is intercepted. */
  const app = (cmd: string, args: readonly string[], timeoutMs = 15_000) =>
    rig.exec('client', cmd, args, { uid: APP_UID, env: { PGCONNECT_TIMEOUT: '5' }, timeoutMs });
  const node = (js: string, ...args: string[]) => app(process.execPath, ['-e', js, ...args]).then((r) => r.stdout.trim());
  const accessLog = (pod: PodName): Array<Record<string, unknown>> => {
    try {
      return readFileSync(join(work, `access-${pod}.log`), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return [];
    }
  };
  const scrape = async (pod: PodName): Promise<string> => (await host.nodeGet(`http://${POD_IPS[pod]}:15090/stats/prometheus`)).body;

  beforeAll(async () => {
    try {
      chmodSync(work, 0o777);
      mkdirSync(configDir);
      writeFileSync(join(configDir, '10-mesh.yaml'), MESH_YAML);
      await rig.up(Object.entries(POD_IPS).map(([name, ip]) => ({ name, service: name, ip })));
      const tls = await makeCert(work);
      chmodSync(tls.key, 0o644);
      const servers = [
        startRedis(rig, 'redis', work).waitForLine(/Ready to accept connections/, 20_000),
        startPostgres(rig, 'pg', work).then((p) => p.waitForLine(/ready to accept connections/, 60_000)),
        startBanner(rig, 'banner').waitForLine(/banner listening/, 20_000),
        startWeb(rig, 'web').waitForLine(/web listening/, 20_000),
      ];
      for (const pod of ['tls-a', 'tls-b'] as const) {
        startTlsServer(rig, pod, work, tls);
        servers.push(tlsServerReady(rig, pod, 30_000).then(() => ''));
      }
      for (const pod of Object.keys(POD_IPS) as PodName[]) {
        const args = [
          'bin/meshlet.js', 'proxy', '--config', configDir,
          '--workload', pod, '--labels', `app=${pod},version=v1`, '--namespace', 'default',
          '--app-port', String(APP_PORTS[pod]),
          '--access-log', join(work, `access-${pod}.log`),
        ];
        sidecars.set(pod, rig.spawn(pod, { uid: PROXY_UID, cmd: process.execPath, args, cwd: ROOT, logFile: join(work, `sidecar-${pod}.log`) }));
      }
      await Promise.all([...servers, ...[...sidecars.values()].map((s) => s.waitForLine(/meshlet proxy listening/, 90_000))]);
      if (havePrometheus) prometheus = startPrometheus(host, [{ ip: POD_IPS.client, name: 'client' }]);
    } catch (err) {
      keep = true;
      throw new Error(`interception bring-up failed (logs kept in ${work}): ${(err as Error).message}`);
    }
  }, 240_000);

  afterAll(async () => {
    await prometheus?.kill();
    await rig.down();
    if (keep) console.info(`interception e2e: logs kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }, 30_000);

  it('redis-cli reaches redis-server as a declared TCP service (VIP) and undeclared (pod IP)', async () => {
    const declared = await app('redis-cli', ['-h', REDIS_VIP, '-p', '6379', 'SET', 'greeting', 'hello']);
    expect(declared.stdout.trim(), declared.stderr).toBe('OK');
    const undeclared = await app('redis-cli', ['-h', POD_IPS.redis, '-p', '6379', 'GET', 'greeting']);
    expect(undeclared.stdout.trim(), undeclared.stderr).toBe('hello');
    // One TCP access-log line per connection, naming the cluster that carried it.
    const lines = await until(() => {
      const l = accessLog('client').filter((e) => e['protocol'] === 'tcp' && String(e['original_dst']).endsWith(':6379'));
      return l.length >= 2 ? l : undefined;
    }, 10_000);
    expect(lines.map((e) => e['upstream_cluster'])).toEqual(expect.arrayContaining(['outbound|6379||redis.db.internal', 'PassthroughCluster']));
    expect(lines.find((e) => e['upstream_cluster'] === 'outbound|6379||redis.db.internal')).toMatchObject({ upstream_host: `${POD_IPS.redis}:6379`, response_flags: '-' });
  });

  it('psql reaches PostgreSQL undeclared (client-first bytes sniffed as TCP)', async () => {
    const r = await app('psql', ['-h', POD_IPS.pg, '-p', '5432', '-U', 'test', '-d', 'postgres', '-tAc', 'select 40 + 2']);
    expect(r.stdout.trim(), r.stderr).toBe('42');
  });

  it('a server-first banner protocol works undeclared (opaque TCP after the detection timeout)', async () => {
    const out = await node(BANNER_CLIENT_JS, POD_IPS.banner, '2525');
    expect(out).toBe(JSON.stringify('220 banner.example ready\r\n250 HELO e2e\r\n'));
  });

  it('curl https reaches nginx by SNI undeclared, and a declared tls route splits 50/50', { timeout: 120_000 }, async () => {
    const undeclared = await app('curl', ['-sk', '--max-time', '5', '--resolve', `tls.example.com:8443:${POD_IPS['tls-a']}`, 'https://tls.example.com:8443/who']);
    expect(undeclared.stdout.trim(), undeclared.stderr).toBe('tls-a');
    const seen: Record<string, number> = {};
    for (let i = 0; i < 10; i++) {
      const r = await app('curl', ['-sk', '--max-time', '20', '--resolve', `secure.example.com:8443:${SECURE_ADDR}`, 'https://secure.example.com:8443/who'], 30_000);
      const who = r.stdout.trim() || `error: ${r.stderr}`;
      seen[who] = (seen[who] ?? 0) + 1;
    }
    // The split is per connection: the access log shows where each of the 10 went, 5 and 5.
    const routed = await until(() => {
      const l = accessLog('client').filter((e) => e['protocol'] === 'tls' && e['sni'] === 'secure.example.com');
      return l.length >= 10 ? l : undefined;
    }, 20_000).catch((err: Error) => {
      keep = true;
      const tls = accessLog('client').filter((e) => e['protocol'] === 'tls');
      throw new Error(`${err.message}: curl saw ${JSON.stringify(seen)}; tls access-log lines: ${JSON.stringify(tls)}`);
    });
    expect(new Set(routed.map((e) => e['route_name']))).toEqual(new Set(['secure.tls.0']));
    const byHost: Record<string, number> = {};
    for (const e of routed) byHost[String(e['upstream_host'])] = (byHost[String(e['upstream_host'])] ?? 0) + 1;
    expect(byHost).toEqual({ [`${POD_IPS['tls-a']}:8443`]: 5, [`${POD_IPS['tls-b']}:8443`]: 5 });
    expect(seen).toEqual({ 'tls-a': 5, 'tls-b': 5 });
  });

  it('plain HTTP to a host outside every ServiceEntry passes through; the web pod serves both its ports inbound', async () => {
    const http = await app('curl', ['-s', '--max-time', '5', `http://${POD_IPS.web}:9080/outside`]);
    expect(http.stdout.trim(), http.stderr).toBe('web web /outside');
    expect(await node(ECHO_CLIENT_JS, POD_IPS.web, '9090', '5000')).toBe('ECHO 5000');
    const out = await until(() => accessLog('client').find((e) => e['path'] === '/outside'), 10_000);
    expect(out).toMatchObject({ direction: 'outbound', response_code: 200, upstream_cluster: 'PassthroughCluster', upstream_host: `${POD_IPS.web}:9080` });
    // The web pod's sidecar forwarded each to 127.0.0.1:<the port that was dialled>.
    const inHttp = await until(() => accessLog('web').find((e) => e['path'] === '/outside'), 10_000);
    expect(inHttp).toMatchObject({ direction: 'inbound', response_code: 200, upstream_host: '127.0.0.1:9080' });
    const inTcp = await until(() => accessLog('web').find((e) => e['protocol'] === 'tcp' && e['upstream_host'] === '127.0.0.1:9090'), 10_000);
    expect(inTcp).toMatchObject({ direction: 'inbound', bytes_received: 5000, bytes_sent: 5000 });
  });

  it('a client silent for longer than the detection timeout, to an HTTP ServiceEntry without addresses, is still routed as HTTP (declared port)', async () => {
    // Before the port was declared, the 100 ms detection timeout turned this connection into opaque TCP
    // to 10.96.100.4:8080, which nobody serves: the request never reached the web pod.
    const out = await node(SLOW_HTTP_CLIENT_JS, SLOW_HTTP_ADDR, '8080', '400', '/slow');
    expect(out).toBe(JSON.stringify('HTTP/1.1 200 OK | web web /slow'));
    const line = await until(() => accessLog('client').find((e) => e['path'] === '/slow'), 10_000);
    expect(line).toMatchObject({ direction: 'outbound', response_code: 200, upstream_cluster: 'outbound|8080||slow.example.com', upstream_host: `${POD_IPS.web}:9080` });
  });

  it.skipIf(!havePrometheus)('a real Prometheus reads exact istio_tcp_* counts and bytes for a scripted exchange', async () => {
    await until(async () => (await promTargetsUp(host)) === 1, 30_000, 500).catch(async (err: Error) => {
      const targets = await host.nodeGet('http://127.0.0.1:9090/api/v1/targets');
      throw new Error(`${err.message}: Prometheus targets ${targets.status} ${targets.body.slice(0, 800)}; its output: ${prometheus?.output().slice(-800) ?? ''}`);
    });
    const labels = { reporter: 'source', source_workload: 'client', destination_service: 'echo.db.internal', request_protocol: 'tcp' };
    const q = (m: string): string => `sum(${m}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}})`;
    const metrics = ['istio_tcp_connections_opened_total', 'istio_tcp_connections_closed_total', 'istio_tcp_received_bytes_total', 'istio_tcp_sent_bytes_total'];
    const base = Object.fromEntries(await Promise.all(metrics.map(async (m) => [m, sumSamples(await scrape('client'), m, labels)] as const)));
    for (let i = 0; i < 3; i++) expect(await node(ECHO_CLIENT_JS, ECHO_VIP, '9090', '1000')).toBe('ECHO 1000');
    const want: Record<string, number> = {
      istio_tcp_connections_opened_total: base['istio_tcp_connections_opened_total']! + 3,
      istio_tcp_connections_closed_total: base['istio_tcp_connections_closed_total']! + 3,
      istio_tcp_received_bytes_total: base['istio_tcp_received_bytes_total']! + 3000,
      istio_tcp_sent_bytes_total: base['istio_tcp_sent_bytes_total']! + 3000,
    };
    for (const m of metrics) {
      await until(async () => (await promQuery(host, q(m))) === want[m], 20_000, 250).catch(async (err: Error) => {
        const mine = (await scrape('client')).split('\n').filter((l) => l.startsWith(m));
        throw new Error(`${err.message}: ${q(m)} = ${String(await promQuery(host, q(m)))}, want ${want[m]}; sidecar says:\n${mine.join('\n')}`);
      });
    }
    for (const m of metrics) expect(sumSamples(await scrape('client'), m, labels)).toBe(want[m]);
  }, 90_000);

  it('with a Sidecar resource saying REGISTRY_ONLY, undeclared destinations are refused and declared ones still work', async () => {
    writeFileSync(join(configDir, '20-sidecar.yaml'), REGISTRY_ONLY_YAML);
    // HTTP to an unknown host: 502 with flag NR, counted under BlackHoleCluster.
    const blocked = await until(async () => {
      const r = await app('curl', ['-s', '-D', '-', '--max-time', '5', `http://${POD_IPS.web}:9080/blocked`]);
      return r.stdout.startsWith('HTTP/1.1 502') ? r.stdout : undefined;
    }, 20_000, 200);
    expect(blocked.toLowerCase()).toContain('x-meshlet-flags: nr');
    expect(sumSamples(await scrape('client'), 'istio_requests_total', { destination_service: 'BlackHoleCluster', response_code: '502', response_flags: 'NR' })).toBeGreaterThanOrEqual(1);

    const redisUndeclared = await app('redis-cli', ['-h', POD_IPS.redis, '-p', '6379', 'PING']);
    expect(redisUndeclared.stdout.trim()).not.toBe('PONG');
    const redisDeclared = await app('redis-cli', ['-h', REDIS_VIP, '-p', '6379', 'PING']);
    expect(redisDeclared.stdout.trim(), redisDeclared.stderr).toBe('PONG');
    const pg = await app('psql', ['-h', POD_IPS.pg, '-p', '5432', '-U', 'test', '-d', 'postgres', '-tAc', 'select 1']);
    expect(pg.code).not.toBe(0);
    expect(await node(BANNER_CLIENT_JS, POD_IPS.banner, '2525')).toMatch(/^ERR/);
    const tlsUndeclared = await app('curl', ['-sk', '--max-time', '5', '--resolve', `tls.example.com:8443:${POD_IPS['tls-a']}`, 'https://tls.example.com:8443/who']);
    expect(tlsUndeclared.code).not.toBe(0);
    const tlsDeclared = await app('curl', ['-sk', '--max-time', '10', '--resolve', `secure.example.com:8443:${SECURE_ADDR}`, 'https://secure.example.com:8443/who']);
    expect(['tls-a', 'tls-b'], tlsDeclared.stderr).toContain(tlsDeclared.stdout.trim());
    expect(await node(ECHO_CLIENT_JS, POD_IPS.web, '9090', '10')).toMatch(/^ERR/);
    expect(await node(ECHO_CLIENT_JS, ECHO_VIP, '9090', '10')).toBe('ECHO 10');
    const refused = await until(async () => {
      const n = sumSamples(await scrape('client'), 'istio_tcp_connections_closed_total', { destination_service: 'BlackHoleCluster', response_flags: 'NR' });
      return n >= 5 ? n : undefined;
    }, 10_000);
    expect(refused).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
