#!/usr/bin/env -S node --max-semi-space-size=2 --liftoff-only --heap-growing-percent=25 --no-maglev
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm install` (prepare script).
// The shebang carries the sidecar heap flags (proxy/heap-flags.ts explains them).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number' && code !== 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`meshlet: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
