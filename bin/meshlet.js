#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript compiled to dist/ by `npm install` (prepare script).
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
