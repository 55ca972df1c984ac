// re2js, loaded the first time a config actually contains a regex. Measured on
// the sidecar (issue 17 notes): loading it costs ~2–7 MiB of RSS (a 257 KB
// script whose compile leaves malloc memory behind), which a mesh whose routes
// use only exact/prefix matches never needs. Loading is synchronous (its
// CommonJS build) and happens at validation/snapshot build, never per request.
import { createRequire } from 'node:module';
import type { RE2JS as Re2Class } from 're2js';

export type RE2JS = Re2Class;

let loaded: typeof Re2Class | undefined;

/** The RE2JS class, required on first call. */
export function re2js(): typeof Re2Class {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    loaded = (require('re2js') as { RE2JS: typeof Re2Class }).RE2JS;
  }
  return loaded;
}
