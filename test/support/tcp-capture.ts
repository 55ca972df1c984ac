// Loopback TCP helpers for the mesh-TLS tests: a free port to hand to a
// process, and a relay that records what crosses the wire.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** A port that was free a moment ago (bound and released on 127.0.0.1). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Capture {
  readonly port: number;
  /** Every byte sent towards the target so far. */
  readonly bytes: () => Buffer;
  readonly server: Server;
}

/** A TCP relay to 127.0.0.1:`target` recording every byte sent towards it (what an attacker on the wire sees). */
export async function startCapture(target: number): Promise<Capture> {
  const chunks: Buffer[] = [];
  const server = createServer((down: Socket) => {
    const up = connect(target, '127.0.0.1');
    down.on('data', (c: Buffer) => chunks.push(c));
    down.pipe(up).pipe(down);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, bytes: () => Buffer.concat(chunks), server };
}
