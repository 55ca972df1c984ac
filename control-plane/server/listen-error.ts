// Start-up must fail with one clear line naming the address, the reason and
// the flag to change, not gRPC's "No address added out of total 1 resolved".
import { createServer } from 'node:net';

export class ListenError extends Error {
  constructor(host: string, port: number, flag: string, reason: string) {
    super(`cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${reason} (change it with ${flag})`);
    this.name = 'ListenError';
  }
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'host name lookup failed',
};

/** `err` (a node error, or gRPC's message embedding one) as a ListenError when it is a known bind failure. */
export function explainListenError(err: unknown, host: string, port: number, flag: string): unknown {
  const e = err as { code?: string; message?: string } | null;
  const code = e?.code !== undefined && REASONS[e.code] !== undefined ? e.code : /\b(E[A-Z_]{3,})\b/.exec(e?.message ?? '')?.[1];
  const reason = code === undefined ? undefined : REASONS[code];
  return reason === undefined ? err : new ListenError(host, port, flag, reason);
}

/**
 * Binds and releases `host:port` once, so a busy or forbidden port is reported
 * with node's own error code before gRPC tries it (gRPC also logs its wording).
 */
export function probePort(host: string, port: number, flag: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (err) => reject(explainListenError(err, host, port, flag)));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve()));
  });
}
