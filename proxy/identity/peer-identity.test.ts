// peerIdentityOf through real sockets: a verified mTLS peer yields its SPIFFE
// identity (read once per socket), a plaintext socket or an unverified TLS
// peer yields nothing. Certificates come from the openssl CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { peerIdentityOf } from './peer-identity.js';

const dir = mkdtempSync(join(tmpdir(), 'meshlet-peer-id-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/O=mesh');
function leaf(name: string, san: string): { key: Buffer; cert: Buffer } {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n`);
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=${name}`);
  ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  return { key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.pem`)) };
}
const ca = readFileSync(join(dir, 'ca.pem'));
const server = leaf('server', 'URI:spiffe://cluster.local/ns/default/sa/reviews');
const client = leaf('client', 'DNS:x.example, URI:spiffe://cluster.local/ns/shop/sa/productpage');

/** The server side of one TLS connection made with `clientOpts`. */
async function serverSocket(requestCert: boolean, clientOpts: Record<string, unknown>): Promise<TLSSocket> {
  const srv = createServer({ ...server, ca, requestCert, rejectUnauthorized: false });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const got = new Promise<TLSSocket>((r) => srv.once('secureConnection', r));
  const c = connect({ port: (srv.address() as AddressInfo).port, host: '127.0.0.1', ca, checkServerIdentity: () => undefined, ...clientOpts });
  c.on('error', () => undefined);
  const s = await got;
  c.destroy();
  srv.close();
  return s;
}

describe('peerIdentityOf', () => {
  it('reads the verified SPIFFE identity of an mTLS peer, once per socket', async () => {
    const s = await serverSocket(true, { key: client.key, cert: client.cert });
    const id = peerIdentityOf(s);
    expect(id).toMatchObject({ trustDomain: 'cluster.local', namespace: 'shop', serviceAccount: 'productpage', spiffeId: 'spiffe://cluster.local/ns/shop/sa/productpage', principal: 'cluster.local/ns/shop/sa/productpage' });
    expect(peerIdentityOf(s)).toBe(id);
  });

  it('gives nothing for a TLS peer without a certificate, with an unverified one, or a plaintext socket', async () => {
    expect(peerIdentityOf(await serverSocket(true, {}))).toBeUndefined();
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'self.key', '-out', 'self.pem', '-days', '1', '-subj', '/O=self', '-addext', 'subjectAltName=URI:spiffe://cluster.local/ns/default/sa/admin');
    const self = await serverSocket(true, { key: readFileSync(join(dir, 'self.key')), cert: readFileSync(join(dir, 'self.pem')) });
    expect(self.authorized).toBe(false);
    expect(peerIdentityOf(self)).toBeUndefined();
    const plain = createNetServer();
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const accepted = new Promise<Socket>((r) => plain.once('connection', r));
    const c = netConnect((plain.address() as AddressInfo).port, '127.0.0.1');
    const s = await accepted;
    expect(peerIdentityOf(s)).toBeUndefined();
    expect(peerIdentityOf(undefined)).toBeUndefined();
    c.destroy();
    s.destroy();
    plain.close();
  });
});
