// The sidecar's listeners: a net.Server accepts every connection and hands it
// to `accept` (connection-dispatch.ts: original destination, protocol choice);
// HTTP/1.1 connections go to a node:http server that never listens itself
// (keep-alive, strict parsing, Envoy's 60 KiB header limit, 400/431 for
// malformed input on that connection only, WebSocket upgrades tunnelled).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
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
  /** Per-connection entry; default: every connection is HTTP/1.1. */
  readonly accept?: (http: Server) => (socket: Socket) => void;
}

/** One listening port: the accepting net.Server, the HTTP server it feeds, and every open socket. */
export class Listener {
  readonly http: Server;
  readonly net: NetServer;
  readonly #sockets = new Set<Socket>();

  constructor(http: Server, net: NetServer) {
    this.http = http;
    this.net = net;
    net.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
  }

  get port(): number {
    return (this.net.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Open downstream connections (HTTP, TCP, TLS passthrough alike). */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Stops accepting and closes every connection, whatever protocol it speaks. */
  close(): void {
    this.net.close();
    this.http.close();
    this.http.closeAllConnections();
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }
}

export async function startListener(o: ListenerOptions): Promise<Listener> {
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
  // allowHalfOpen: a TCP client's FIN is passed on, not answered by closing (node:http sets it too).
  const net = createNetServer({ allowHalfOpen: true, noDelay: true });
  net.on('connection', o.accept !== undefined ? o.accept(server) : (s: Socket) => server.emit('connection', s));
  const listener = new Listener(server, net);
  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen(o.port, o.host, () => {
      net.off('error', reject);
      resolve();
    });
  });
  // The HTTP server never listens itself; its 'listening' event starts the
  // connection tracking that enforces headersTimeout and closeAllConnections.
  server.emit('listening');
  return listener;
}
