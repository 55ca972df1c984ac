// The real sidecar process (bin/meshlet.js) against an authenticated control
// plane: it refuses plaintext unless told --insecure, obtains its workload
// certificate with its bootstrap token, subscribes as the node id the token
// allows, exports meshlet_cert_expiry_seconds, and rotates the certificate.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { fetchStatus, startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import { configDir, sleep } from './control-plane-fixtures.js';
import { BIN, startMeshlet, until } from '../support/meshlet-process.js';

const TOKEN = 'productpage-token-0123456789abcdef';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function controlPlane(security: 'secure' | 'insecure', certTtlMs?: number): Promise<{ cp: RunningControlPlane; target: string; pki: string }> {
  const files = await configDir();
  cleanups.push(files.remove);
  const pki = await mkdtemp(join(tmpdir(), 'meshlet-pki-'));
  cleanups.push(() => rm(pki, { recursive: true, force: true }));
  await writeFile(join(pki, 'tokens.yaml'), stringify([{ token: TOKEN, nodeId: 'productpage-v1', namespace: 'default', serviceAccount: 'bookinfo-productpage' }]));
  await writeFile(join(pki, 'productpage.token'), TOKEN + '\n');
  const cp = await startControlPlane({
    configDir: files.dir,
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    metricsPort: -1,
    security: security === 'insecure' ? { insecure: true } : { caDir: join(pki, 'ca'), bootstrapTokensFile: join(pki, 'tokens.yaml'), ...(certTtlMs ? { certTtlMs } : {}) },
    log: () => {},
  });
  cleanups.push(() => cp.close());
  return { cp, target: `127.0.0.1:${cp.port}`, pki };
}

const json = async (url: string): Promise<Record<string, unknown>> => (await fetch(url)).json() as Promise<Record<string, unknown>>;

describe('sidecar identity', () => {
  it('refuses to start against a control plane without --ca-cert and --token-file unless --insecure', async () => {
    const child = spawn(process.execPath, [BIN, 'proxy', '--control-plane', '127.0.0.1:1', '--admin-port', '0', '--metrics-port', 'off', '--outbound-port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/refusing to talk to the control plane in plaintext or without a credential/);
  });

  it('a control plane without a CA (and without --insecure) refuses to start, saying how to give it one', async () => {
    const files = await configDir();
    cleanups.push(files.remove);
    const child = spawn(process.execPath, [BIN, 'control-plane', '--config-dir', files.dir, '--grpc-host', '127.0.0.1', '--grpc-port', '0', '--metrics-port', 'off'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(err).toMatch(/give --ca-dir DIR .* or --ca-cert\/--ca-key; or --insecure/);
  });

  it('never exchanges config with a plaintext control plane when it was given --ca-cert', async () => {
    const { target, pki, cp } = await controlPlane('insecure');
    // Any root: the point is that the sidecar insists on TLS.
    const secure = await controlPlane('secure');
    const rootFile = join(pki, 'root.pem');
    await writeFile(rootFile, secure.cp.rootCertPem ?? '');
    const p = await startMeshlet(['--control-plane', target, '--ca-cert', rootFile, '--token-file', join(pki, 'productpage.token'), '--node-id', 'productpage-v1']);
    cleanups.push(() => p.stop());
    await sleep(1500);
    expect((await fetch(`http://127.0.0.1:${p.admin}/ready`)).status).toBe(503);
    expect((await fetchStatus(target)).nodes).toHaveLength(0);
    expect(p.stderr()).toMatch(/workload certificate not obtained/);
    void cp;
  });

  it('gets its certificate and config with its token, as the node id the token allows, and rotates at half-life', async () => {
    const { cp, target, pki } = await controlPlane('secure', 4000);
    const rootFile = join(pki, 'ca', 'root-cert.pem');
    const p = await startMeshlet(['--control-plane', target, '--ca-cert', rootFile, '--token-file', join(pki, 'productpage.token'), '--service-account', 'bookinfo-productpage', '--workload', 'productpage-v1']);
    cleanups.push(() => p.stop());
    await until(async () => ((await fetch(`http://127.0.0.1:${p.admin}/ready`)).status === 200 ? true : undefined), 10_000, 100);
    const info = await json(`http://127.0.0.1:${p.admin}/server_info`);
    expect(info['identity']).toBe('spiffe://cluster.local/ns/default/sa/bookinfo-productpage');
    // The node id the token allows (what it subscribed as), not a locally made-up one.
    expect(info['node_id']).toBe('productpage-v1');
    const firstExpiry = String(info['cert_expires_at']);
    const metrics = await (await fetch(`http://127.0.0.1:${p.metrics}/stats/prometheus`)).text();
    const gauge = Number(/^meshlet_cert_expiry_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(gauge).toBeGreaterThan(0);
    expect(gauge).toBeLessThanOrEqual(4);
    const st = await fetchStatus(target, { creds: credentials.createSsl(Buffer.from(cp.rootCertPem ?? '')) });
    expect(st.nodes.map((n) => [n.nodeId, n.identity])).toEqual([['productpage-v1', 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage']]);
    // 4 s certificates: a new one about 2 s after the first.
    const rotated = await until(async () => {
      const now = String((await json(`http://127.0.0.1:${p.admin}/server_info`))['cert_expires_at']);
      return now !== firstExpiry ? now : undefined;
    }, 8000, 200);
    expect(Date.parse(rotated)).toBeGreaterThan(Date.parse(firstExpiry));
  });
});
