// Graceful drain of the data-plane listeners (SIGTERM/SIGINT, /quitquitquit),
// as Envoy's drain manager does for Istio's terminationDrainDuration:
// readiness turns 503 at once, new connections are still accepted but every
// response from then on carries `Connection: close`, idle keep-alive
// connections are closed, requests in flight run to completion, and long-lived
// streams (WebSocket tunnels, big downloads) are cut only at the deadline.
import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InFlightList } from './in-flight-list.js';

export type DrainOutcome = 'idle' | 'deadline';

const DRAIN = Symbol('meshlet.drain');
type TrackedResponse = ServerResponse & { [DRAIN]?: Drain };

/** One listener function for every response (no closure per request); `this` is the response. */
function onResponseClose(this: TrackedResponse): void {
  this[DRAIN]?.release(this);
}

export class Drain {
  #draining = false;
  /** Responses in flight, so a drain can mark those not yet started `Connection: close` (in-flight-list.ts: why not a Set). */
  readonly #active = new InFlightList<ServerResponse>();
  readonly #tunnels = new InFlightList<Duplex>();
  readonly #servers: Server[] = [];
  #wake: (() => void) | undefined;

  /** @internal called when a tracked response closes */
  release(res: ServerResponse): void {
    if (!this.#active.delete(res)) return;
    this.#check();
  }

  #check(): void {
    if (this.#draining && this.#wake !== undefined && this.busy === 0) this.#wake();
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Requests in flight plus open tunnels on the data-plane listeners. */
  get busy(): number {
    return this.#active.size + this.#tunnels.size;
  }

  addServer(s: Server): void {
    this.#servers.push(s);
  }

  /** Called for each request on a data-plane listener, before anything else. */
  onRequest(res: ServerResponse): void {
    this.#active.add(res);
    (res as TrackedResponse)[DRAIN] = this;
    res.on('close', onResponseClose);
    // node:http then writes `Connection: close` and ends the connection after this response.
    if (this.#draining) res.shouldKeepAlive = false;
  }

  onTunnel(socket: Duplex): void {
    this.#tunnels.add(socket);
    socket.once('close', () => {
      this.#tunnels.delete(socket);
      this.#check();
    });
  }

  /**
   * Starts draining and resolves when nothing is in flight (`idle`) or at the
   * deadline (`deadline`), whichever is first. Listeners keep accepting.
   */
  drain(deadlineMs: number): Promise<DrainOutcome> {
    this.#draining = true;
    // Responses not started yet say `Connection: close`; the client then opens a new connection.
    for (const res of this.#active) if (!res.headersSent) res.shouldKeepAlive = false;
    for (const s of this.#servers) {
      // Responses already under way went out keep-alive: close those connections as they finish...
      s.keepAliveTimeout = 1;
      // ...and those idle right now close now.
      s.closeIdleConnections();
    }
    if (this.busy === 0) return Promise.resolve('idle');
    return new Promise<DrainOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve('deadline');
      }, deadlineMs);
      this.#wake = () => {
        this.#wake = undefined;
        clearTimeout(timer);
        resolve('idle');
      };
    });
  }

  /** Deadline reached or drain over: cut whatever is left. */
  cutAll(): void {
    for (const t of this.#tunnels) t.destroy();
    for (const s of this.#servers) {
      s.close();
      s.closeAllConnections();
    }
  }
}
