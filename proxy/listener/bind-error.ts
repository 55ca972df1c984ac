// A listener that cannot bind stops start-up with one line naming the
// address, the reason and the flag that moves it: no stack trace, and no
// half-started proxy left answering on the ports it did get.
import type { Server } from 'node:http';

export class BindError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly flag: string,
    readonly reason: string,
  ) {
    super(`cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${reason} (change it with ${flag})`);
    this.name = 'BindError';
  }
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  ENOTFOUND: 'unknown host name',
  EAI_AGAIN: 'host name lookup failed',
};

/** `err` as a BindError when it is one of the well-known bind failures, else unchanged. */
export function explainBindError(err: unknown, host: string, port: number, flag: string): unknown {
  const code = (err as { code?: string } | null)?.code ?? '';
  const reason = REASONS[code];
  return reason === undefined ? err : new BindError(host, port, flag, reason);
}

/** server.listen as a promise that rejects with a BindError. */
export function listenOn(server: Server, port: number, host: string, flag: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(explainBindError(err, host, port, flag));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
