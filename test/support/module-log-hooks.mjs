// Test support: `node --import=<this file>` appends the URL of every module
// the process resolves (ESM imports, including import()) to the file named by
// MESHLET_TEST_MODULE_LOG, so a test can check what a real process loaded.
// Plain .mjs: it runs in the child before anything else, uncompiled.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
const log = ${JSON.stringify(process.env.MESHLET_TEST_MODULE_LOG ?? '')};
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (log !== '') appendFileSync(log, r.url + '\\n');
  return r;
}
`)}`,
);
