// A listener that cannot bind stops start-up with one line naming the
// address, the reason and the flag that moves it, not a stack trace or gRPC's
// "No address added out of total 1 resolved". Shared by the proxy's listeners
// and the control plane's (the config kernel is what both may import).

export class ListenError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly flag: string,
    readonly reason: string,
  ) {
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

/**
 * `err` (a node error, or gRPC's message embedding one) as a ListenError when
 * it is a known bind failure, else unchanged.
 */
export function explainListenError(err: unknown, host: string, port: number, flag: string): unknown {
  const e = err as { code?: string; message?: string } | null;
  const code = e?.code !== undefined && REASONS[e.code] !== undefined ? e.code : /\b(E[A-Z_]{3,})\b/.exec(e?.message ?? '')?.[1];
  const reason = code === undefined ? undefined : REASONS[code];
  return reason === undefined ? err : new ListenError(host, port, flag, reason);
}
