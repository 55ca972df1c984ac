// undici's Pool without undici's index: the index also loads fetch, WebSocket
// and cookies, and the cookies module reads the global `Headers`, which makes
// Node load its own bundled copy of undici (a second llhttp WebAssembly
// instance). Measured on the sidecar: ~10 MiB of RSS for code the sidecar
// never runs. The class and its errors are the same modules the index exports.
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
