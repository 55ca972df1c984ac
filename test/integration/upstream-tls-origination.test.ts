// DestinationRule trafficPolicy.tls SIMPLE and MUTUAL through a real sidecar
// process (standalone, no control plane) to real TLS upstreams (node:https
// servers with openssl-made certificates): the app speaks plaintext HTTP to
// the sidecar, the sidecar originates TLS, verifies the server against
// `caCertificates` and the SNI / subjectAltNames, and (MUTUAL) presents the
// client certificate the upstream requires. Failures are 503 with flag UF and
// never reach the upstream's handler.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../support/http-client.js';
import { startMeshlet, tempConfig, type MeshletProc } from '../support/meshlet-process.js';

const dir = mkdtempSync(join(tmpdir(), 'meshlet-tls-origin-'));
const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
function ca(name: string): void {
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=${name}`);
}
function leaf(name: string, signer: string, san: string, eku: string): void {
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=${eku}\n`);
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
}
const file = (name: string): string => join(dir, name);

interface Seen {
  url: string;
  sni: string | false | null;
  alpn: string | false | null;
  clientCert: string | string[] | undefined;
}
interface TlsUpstream {
  port: number;
  seen: Seen[];
  server: Server;
}

/** A real HTTPS server recording, per request, the SNI, ALPN and the client certificate's CN it saw. */
async function tlsUpstream(name: string, opts: { requireClientCert: boolean }): Promise<TlsUpstream> {
  const seen: Seen[] = [];
  const server = createServer(
    {
      key: readFileSync(file(`${name}.key`)),
      cert: readFileSync(file(`${name}.pem`)),
      ca: readFileSync(file('client-ca.pem')),
      requestCert: opts.requireClientCert,
      rejectUnauthorized: opts.requireClientCert,
    },
    (req, res) => {
      const s = req.socket as TLSSocket;
      const peer = s.getPeerCertificate();
      seen.push({ url: req.url ?? '', sni: s.servername, alpn: s.alpnProtocol, clientCert: peer !== null && 'subject' in peer ? peer.subject?.CN : undefined });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, url: req.url }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen, server };
}

const serviceEntry = (host: string, port: number): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${host.replace(/\./g, '-')} }
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${port} } }]
---
`;
const rule = (host: string, tls: string): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host.replace(/\./g, '-')} }
spec:
  host: ${host}
  trafficPolicy:
    tls: ${tls}
---
`;

let simple: TlsUpstream;
let mutual: TlsUpstream;
let mesh: MeshletProc;

beforeAll(async () => {
  ca('server-ca');
  ca('other-ca');
  ca('client-ca');
  leaf('api', 'server-ca', 'DNS:api.example.com', 'serverAuth');
  leaf('bank', 'server-ca', 'DNS:bank.example.com, URI:spiffe://partner.example/ns/pay/sa/bank', 'serverAuth');
  leaf('client', 'client-ca', 'DNS:client.example.com', 'clientAuth');
  simple = await tlsUpstream('api', { requireClientCert: false });
  mutual = await tlsUpstream('bank', { requireClientCert: true });
  const config = tempConfig({
    'services.yaml':
      serviceEntry('api.example.com', simple.port) +
      serviceEntry('api-wrong-ca.example.com', simple.port) +
      serviceEntry('api-wrong-sni.example.com', simple.port) +
      serviceEntry('bank.example.com', mutual.port) +
      serviceEntry('bank-no-cert.example.com', mutual.port) +
      serviceEntry('bank-wrong-san.example.com', mutual.port) +
      serviceEntry('plain-to-tls.example.com', simple.port),
    'rules.yaml':
      rule('api.example.com', `{ mode: SIMPLE, caCertificates: ${file('server-ca.pem')} }`) +
      rule('api-wrong-ca.example.com', `{ mode: SIMPLE, caCertificates: ${file('other-ca.pem')}, sni: api.example.com }`) +
      rule('api-wrong-sni.example.com', `{ mode: SIMPLE, caCertificates: ${file('server-ca.pem')} }`) +
      rule('bank.example.com', `{ mode: MUTUAL, caCertificates: ${file('server-ca.pem')}, clientCertificate: ${file('client.pem')}, privateKey: ${file('client.key')}, subjectAltNames: ["spiffe://partner.example/ns/pay/sa/bank"] }`) +
      rule('bank-no-cert.example.com', `{ mode: SIMPLE, caCertificates: ${file('server-ca.pem')}, sni: bank.example.com }`) +
      rule('bank-wrong-san.example.com', `{ mode: MUTUAL, caCertificates: ${file('server-ca.pem')}, clientCertificate: ${file('client.pem')}, privateKey: ${file('client.key')}, sni: bank.example.com, subjectAltNames: ["spiffe://partner.example/ns/pay/sa/other"] }`),
  });
  mesh = await startMeshlet(['--config', config]);
}, 60_000);

afterAll(async () => {
  await mesh?.stop();
  simple?.server.close();
  mutual?.server.close();
  rmSync(dir, { recursive: true, force: true });
});

const flags = (h: Record<string, unknown>): string => String(h['x-meshlet-flags'] ?? '');

describe('DestinationRule tls SIMPLE', () => {
  it('originates TLS: the upstream sees TLS with SNI = the service host and ALPN http/1.1; the app sent plaintext', async () => {
    const r = await send(mesh.outbound, { host: 'api.example.com', path: '/simple' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ name: 'api', url: '/simple' });
    expect(simple.seen.at(-1)).toEqual({ url: '/simple', sni: 'api.example.com', alpn: 'http/1.1', clientCert: undefined });
  });

  it('a server whose certificate does not chain to caCertificates is refused: 503 UF, nothing reaches it', async () => {
    const before = simple.seen.length;
    const r = await send(mesh.outbound, { host: 'api-wrong-ca.example.com', path: '/wrong-ca' });
    expect(r.status).toBe(503);
    expect(flags(r.headers)).toMatch(/^UF(,URX)?$/);
    expect(simple.seen.length).toBe(before);
  });

  it('a certificate that does not name the SNI (the host by default) is refused: 503 UF', async () => {
    const before = simple.seen.length;
    const r = await send(mesh.outbound, { host: 'api-wrong-sni.example.com', path: '/wrong-sni' });
    expect(r.status).toBe(503);
    expect(flags(r.headers)).toMatch(/^UF(,URX)?$/);
    expect(simple.seen.length).toBe(before);
  });

  it('SIMPLE to a server that requires a client certificate: refused, nothing reaches it (TLS 1.3: seen as a reset, 502 UC)', async () => {
    // With TLS 1.3 the server checks the client certificate after the client
    // has finished its handshake and sent the request, so the refusal arrives
    // as the connection closing under the request: an upstream reset.
    const before = mutual.seen.length;
    const r = await send(mesh.outbound, { host: 'bank-no-cert.example.com', path: '/no-cert' });
    expect(r.status).toBe(502);
    expect(flags(r.headers)).toBe('UC');
    expect(mutual.seen.length).toBe(before);
  });
});

describe('DestinationRule tls MUTUAL', () => {
  it('presents the client certificate the upstream requires and checks subjectAltNames', async () => {
    const r = await send(mesh.outbound, { host: 'bank.example.com', path: '/mutual' });
    expect(r.status).toBe(200);
    expect(mutual.seen.at(-1)).toEqual({ url: '/mutual', sni: 'bank.example.com', alpn: 'http/1.1', clientCert: 'client' });
  });

  it('a server whose SANs match none of subjectAltNames is refused: 503 UF', async () => {
    const before = mutual.seen.length;
    const r = await send(mesh.outbound, { host: 'bank-wrong-san.example.com', path: '/wrong-san' });
    expect(r.status).toBe(503);
    expect(flags(r.headers)).toMatch(/^UF(,URX)?$/);
    expect(mutual.seen.length).toBe(before);
  });

  it('connections are reused: many requests, few handshakes on the upstream', async () => {
    let connections = 0;
    const count = (): void => void connections++;
    mutual.server.on('secureConnection', count);
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    for (let i = 0; i < 40; i += 4) await Promise.all(Array.from({ length: 4 }, () => send(mesh.outbound, { host: 'bank.example.com', agent }).then((r) => expect(r.status).toBe(200))));
    agent.destroy();
    mutual.server.off('secureConnection', count);
    expect(connections).toBeLessThanOrEqual(4);
  });
});
