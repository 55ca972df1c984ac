// Loopback TCP helpers for the mesh-TLS tests: a free port to hand to a
// process, and a relay that records what crosses the wire.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** A port that was free a moment ago (bound and released on 127.0.0.1). The one copy: the bench re-exports it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
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
