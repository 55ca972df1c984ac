import { connect } from 'node:tls';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { offersAlpn } from './client-hello-alpn.js';

/** A real ClientHello from node:tls offering `alpn`. */
async function clientHello(alpn: string[] | undefined): Promise<Buffer> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => (resolve(d), s.destroy()))));
  const c = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false, ...(alpn ? { ALPNProtocols: alpn } : {}) });
  c.on('error', () => undefined);
  return got;
}
const servers: ReturnType<typeof createServer>[] = [];
afterAll(() => servers.forEach((s) => s.close()));

describe('offersAlpn', () => {
  it('finds istio-peer-exchange in a real ClientHello, and only when offered', async () => {
    const mesh = await clientHello(['istio-peer-exchange', 'h2']);
    expect(offersAlpn(mesh, 'istio-peer-exchange')).toBe(true);
    expect(offersAlpn(mesh, 'h2')).toBe(true);
    expect(offersAlpn(mesh, 'http/1.1')).toBe(false);
    expect(offersAlpn(await clientHello(['h2', 'http/1.1']), 'istio-peer-exchange')).toBe(false);
    expect(offersAlpn(await clientHello(undefined), 'istio-peer-exchange')).toBe(false);
  });

  it('never throws on truncated or garbage input', async () => {
    const mesh = await clientHello(['istio-peer-exchange']);
    for (let n = 0; n < mesh.length; n += 7) expect(typeof offersAlpn(mesh.subarray(0, n), 'istio-peer-exchange')).toBe('boolean');
    expect(offersAlpn(Buffer.from('GET / HTTP/1.1\r\n'), 'h2')).toBe(false);
  });
});
