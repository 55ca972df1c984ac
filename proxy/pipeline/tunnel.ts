// The bytes of an upgraded connection (WebSocket or a protocol a route
// allows): once the upstream answered 101, the client's socket and the
// upstream's socket are spliced until either side closes. Everything before
// that moment (routing, faults, header operations, admission, outlier
// recording, tracing) ran in RequestState like any request; the tunnel only
// counts bytes and reports its end once, so the exchange is logged and
// measured when the connection closes.
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';

export interface TunnelOwner {
  /** Called once, when both sockets are closed. */
  tunnelClosed(t: Tunnel): void;
}

export class Tunnel {
  /** Bytes client → upstream after the handshake (including early data sent with the request). */
  bytesIn = 0;
  /** Bytes upstream → client after the 101 head. */
  bytesOut = 0;
  #closed = false;
  readonly #client: Duplex;
  readonly #upstream: Duplex;
  readonly #owner: TunnelOwner;

  constructor(owner: TunnelOwner, client: Duplex, upstream: Duplex) {
    this.#owner = owner;
    this.#client = client;
    this.#upstream = upstream;
  }

  /** Writes the upstream's 101 head to the client, sends the early bytes, then splices the sockets. */
  open(status: number, headers: IncomingHttpHeaders, head: Buffer): void {
    const client = this.#client;
    const upstream = this.#upstream;
    let out = `HTTP/1.1 ${status} Switching Protocols\r\n`;
    for (const k in headers) {
      const v = headers[k];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const one of v) out += `${k}: ${one}\r\n`;
      else out += `${k}: ${v}\r\n`;
    }
    client.write(out + '\r\n');
    if (head.length > 0) {
      this.bytesIn += head.length;
      upstream.write(head);
    }
    // One connection per tunnel, not per request on a hot path: closures are fine here.
    client.on('data', (c: Buffer) => (this.bytesIn += c.length));
    upstream.on('data', (c: Buffer) => (this.bytesOut += c.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => this.close();
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }

  /** Closes both sides (idempotent); the owner hears about it once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
    this.#upstream.destroy();
    this.#owner.tunnelClosed(this);
  }
}
