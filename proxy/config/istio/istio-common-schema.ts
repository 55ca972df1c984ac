// zod schemas for the pieces the Istio networking kinds share. Objects are
// loose (unknown fields pass) because Istio's API is much larger than what
// Meshlet applies; fields we use are typed and range-checked here so the
// translation can assume well-formed values.

import { z } from 'zod';
import { parseDuration } from './duration.js';

/** `"1.5s"`, `"100ms"`, `"2m"`, `"1h"`: checked here, converted during translation. */
export const IstioDurationSchema = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, {
    message: 'not a duration (use e.g. "1.5s", "100ms", "2m", "1h")',
  });

/** Istio `Percent`: a double in 0..100. */
export const IstioPercentSchema = z.looseObject({
  value: z.number().min(0, 'percentage must be within 0..100').max(100, 'percentage must be within 0..100'),
});

/**
 * Compiles with JS RegExp because that is the engine the proxy matches with.
 * Istio/Envoy use RE2, which rejects backreferences and lookaround that JS
 * accepts; we do not emulate RE2 here, so a pattern valid for us can still be
 * refused by a real Istio control plane.
 */
function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

export const IstioStringMatchSchema = z
  .looseObject({
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: z.string().refine(compiles, { message: 'regex does not compile' }).optional(),
  })
  .refine(
    (m) => [m.exact, m.prefix, m.regex].filter((v) => v !== undefined).length <= 1,
    { message: 'only one of exact, prefix, regex may be set' },
  );
export type IstioStringMatch = z.infer<typeof IstioStringMatchSchema>;

export const IstioPortSelectorSchema = z.looseObject({
  number: z.number().int().min(1).max(65535),
});

export const IstioHeaderOpsSchema = z.looseObject({
  set: z.record(z.string(), z.string()).optional(),
  add: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional(),
});
export type IstioHeaderOps = z.infer<typeof IstioHeaderOpsSchema>;

export const IstioHeadersSchema = z.looseObject({
  request: IstioHeaderOpsSchema.optional(),
  response: IstioHeaderOpsSchema.optional(),
});
export type IstioHeaders = z.infer<typeof IstioHeadersSchema>;

export const IstioMetadataSchema = z.looseObject({
  name: z.string().min(1, 'metadata.name is required'),
  namespace: z.string().min(1).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const HTTP_STATUS = z.number().int().min(200, 'status must be within 200..599').max(599, 'status must be within 200..599');
