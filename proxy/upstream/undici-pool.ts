// undici's Pool without undici's index: the index also loads fetch, WebSocket
// and cookies, and the cookies module reads the global `Headers`, which makes
// Node load its own bundled copy of undici (a second llhttp WebAssembly
// instance). Measured on the sidecar: ~10 MiB of RSS for code the sidecar
// never runs. Required on first use: a sidecar whose HTTP/1.1 upstreams go
// through node:http never loads undici at all.
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

export type Pool = UndiciPool;

let PoolClass: typeof UndiciPool | undefined;

/** undici's Pool class, required on first call. */
export function undiciPool(): typeof UndiciPool {
  if (PoolClass === undefined) PoolClass = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
  return PoolClass;
}
