// node:http listeners for the sidecar: HTTP/1.1 keep-alive, strict parsing,
// Envoy's 60 KiB header limit, 400/431 for malformed input without touching
// other connections, WebSocket upgrades tunnelled to the chosen endpoint.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { rescueClientError } from '../errors/rescue.js';

export interface ListenerOptions {
  readonly port: number;
  readonly host: string;
  readonly maxHeaderBytes: number;
  /** Downstream keep-alive idle timeout. */
  readonly idleTimeoutMs: number;
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  readonly onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export async function startListener(o: ListenerOptions): Promise<Server> {
  const server = createServer(
    {
      maxHeaderSize: o.maxHeaderBytes,
      keepAlive: true,
      keepAliveTimeout: o.idleTimeoutMs,
      // Whole-request timers are the route's business; these only bound slowloris clients.
      requestTimeout: 0,
      headersTimeout: 60_000,
      noDelay: true,
      insecureHTTPParser: false,
    },
    o.onRequest,
  );
  // Malformed requests get a 400/431 on that connection only; the process keeps serving.
  server.on('clientError', rescueClientError);
  if (o.onUpgrade !== undefined) server.on('upgrade', o.onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
