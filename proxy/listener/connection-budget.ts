// One budget of downstream connections shared by the data-plane listeners
// (outbound + inbound), like Envoy's overload manager
// `global_downstream_max_connections`. Above it a new connection is closed at
// once and counted; admin and metrics listeners are outside the budget so an
// operator can still look in while the sidecar is saturated.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export class ConnectionBudget {
  readonly max: number;
  #open = 0;
  #refused = 0;
  readonly #onRefuse: () => void;
  readonly #release = (): void => {
    this.#open--;
  };

  constructor(max: number, onRefuse: () => void = () => undefined) {
    this.max = max;
    this.#onRefuse = onRefuse;
  }

  get open(): number {
    return this.#open;
  }

  get refused(): number {
    return this.#refused;
  }

  /** Counts the server's connections against this budget; refuses those above it. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      if (this.#open >= this.max) {
        this.#refused++;
        this.#onRefuse();
        socket.destroy();
        return;
      }
      this.#open++;
      socket.once('close', this.#release);
    });
  }
}

/** The soft RLIMIT_NOFILE of this process (Linux /proc), or undefined where unknown. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m === null || m[1] === 'unlimited') return undefined;
    return Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * The connection budget to use: the requested one, but never more than half
 * the file-descriptor limit (each downstream connection may need an upstream
 * one, and listeners, logs and DNS need a few more).
 */
export function effectiveMaxConnections(requested: number, fdLimit: number | undefined): { max: number; clamped: boolean } {
  if (fdLimit === undefined) return { max: requested, clamped: false };
  const ceiling = Math.max(1, Math.floor(fdLimit / 2));
  return requested > ceiling ? { max: ceiling, clamped: true } : { max: requested, clamped: false };
}
