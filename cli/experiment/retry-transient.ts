// The runner's control-plane calls, retried when the failure says "busy, try
// again": a loaded control plane can miss a 5 s deadline once, and a revert
// that gives up on the first miss leaves the fault in until its TTL, spilling
// into whatever runs next. Only for idempotent calls (apply replaces the
// overlay by name, remove and status change nothing twice).

/** gRPC DEADLINE_EXCEEDED and UNAVAILABLE: the call may well succeed if made again. */
const TRANSIENT: ReadonlySet<number> = new Set([4, 14]);

export async function retryTransient<T>(call: () => Promise<T>, tries = 3, onRetry?: (err: Error) => void): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (i >= tries || typeof code !== 'number' || !TRANSIENT.has(code)) throw err;
      onRetry?.(err as Error);
    }
  }
}
