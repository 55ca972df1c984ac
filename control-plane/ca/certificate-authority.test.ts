// The CA with material a user brings (an RSA root and intermediate made by the
// openssl CLI), checked by openssl itself: the workload certificate it signs
// verifies against the user's root through the intermediate, and carries only
// the SPIFFE URI SAN. Also: a half-populated --ca-dir is refused.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorkloadKey } from '../../proxy/identity/index.js';
import { loadOrCreateCaDir, loadProvidedCa } from './index.js';

let dir = '';
const ossl = (...args: string[]): string => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshlet-ca-test-'));
  await writeFile(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '30', '-subj', '/O=example/CN=User Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/O=example/CN=Mesh Intermediate');
  ossl('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'int.pem', '-days', '10', '-extfile', 'ca.ext');
  await writeFile(join(dir, 'chain.pem'), (await readFile(join(dir, 'int.pem'), 'utf8')) + (await readFile(join(dir, 'root.pem'), 'utf8')));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('user-provided CA (--ca-cert/--ca-key)', () => {
  it('signs with the intermediate; openssl verifies the leaf against the user root', async () => {
    const ca = await loadProvidedCa(join(dir, 'chain.pem'), join(dir, 'int.key'));
    expect(ca.rootPem).toBe(await readFile(join(dir, 'root.pem'), 'utf8').then((s) => s.trim() + '\n'));
    const key = await generateWorkloadKey('spiffe://cluster.local/ns/default/sa/anything');
    const issued = await ca.signWorkload(key.csrPem, { trustDomain: 'example.org', namespace: 'shop', serviceAccount: 'cart' }, 3_600_000);
    expect(issued.certChain).toHaveLength(2); // leaf + intermediate
    await writeFile(join(dir, 'leaf.pem'), issued.certChain[0]!);
    await writeFile(join(dir, 'untrusted.pem'), issued.certChain.slice(1).join('\n'));
    expect(ossl('verify', '-CAfile', 'root.pem', '-untrusted', 'untrusted.pem', '-purpose', 'sslclient', 'leaf.pem')).toMatch(/leaf.pem: OK/);
    const text = ossl('x509', '-in', 'leaf.pem', '-noout', '-text');
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/example.org\/ns\/shop\/sa\/cart\s/);
    expect(text).not.toMatch(/anything/);
    expect(text).toMatch(/CA:FALSE/);
  });

  it('refuses a certificate that is not a CA', async () => {
    ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leafy.key', '-out', 'leafy.pem', '-days', '1', '-subj', '/CN=not a ca', '-addext', 'basicConstraints=critical,CA:FALSE');
    await expect(loadProvidedCa(join(dir, 'leafy.pem'), join(dir, 'leafy.key'))).rejects.toThrow(/not a CA certificate/);
  });
});

describe('--ca-dir', () => {
  it('refuses a directory holding a key without its certificate', async () => {
    const half = join(dir, 'half');
    const logs: string[] = [];
    await loadOrCreateCaDir(half, 'cluster.local', (m) => logs.push(m));
    await rm(join(half, 'ca-cert.pem'));
    await expect(loadOrCreateCaDir(half, 'cluster.local', () => {})).rejects.toThrow(/refusing to replace half a CA/);
    expect(logs.join('\n')).toMatch(/created a new self-signed root/);
  });
});
