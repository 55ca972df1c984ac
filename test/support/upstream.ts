// A real HTTP upstream for tests: records what it received and answers with a
// scripted behaviour (status, delay, reset, body echo).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, body: Buffer, n: number) => unknown;

export interface Upstream {
  readonly name: string;
  readonly port: number;
  readonly received: Received[];
  behaviour: Behaviour;
  close(): Promise<void>;
}

export const answerName =
  (name: string): Behaviour =>
  (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, url: req.url }));
  };

export async function startUpstream(name: string, behaviour: Behaviour = answerName(name), host = '127.0.0.1'): Promise<Upstream> {
  const received: Received[] = [];
  const up: Upstream = {
    name,
    port: 0,
    received,
    behaviour,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      void up.behaviour(req, res, body, received.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  (up as { port: number }).port = (server.address() as AddressInfo).port;
  return up;
}
