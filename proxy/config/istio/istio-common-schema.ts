// zod schemas for the pieces the Istio networking kinds share. Every object is
// strict: a field Istio's API does not have is an error with a did-you-mean
// (see unknown-fields.ts). Fields Istio has but Meshlet does not apply are
// declared (so they are not "unknown") and then warned about or refused by
// field-support.ts. Fields we use are typed and range-checked here so the
// translation can assume well-formed values.

import { z } from 'zod';
import { checkRe2 } from '../validate/re2-pattern.js';
import { parseDuration } from './duration.js';

/** Largest delay a Node timer can hold (2^31 - 1 ms, about 24.8 days); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** `"1.5s"`, `"100ms"`, `"2m"`, `"1h"`: checked here, converted during translation. */
export const IstioDurationSchema = z.string().superRefine((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'not a duration (use e.g. "1.5s", "100ms", "2m", "1h")' });
  else if (ms > MAX_TIMER_MS) ctx.addIssue({ code: 'custom', message: `duration ${s} exceeds the longest timer (${MAX_TIMER_MS} ms, about 24.8 days)` });
});

/** Istio `Percent`: a double in 0..100. */
export const IstioPercentSchema = z.strictObject({
  value: z.number().min(0, 'percentage must be within 0..100').max(100, 'percentage must be within 0..100'),
});

/** An RE2 pattern within the program-size limit (full-match semantics are the matcher's). */
export const IstioRegexSchema = z.string().superRefine((p, ctx) => {
  const reason = checkRe2(p);
  if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
});

export const IstioStringMatchSchema = z
  .strictObject({
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: IstioRegexSchema.optional(),
  })
  .refine(
    (m) => [m.exact, m.prefix, m.regex].filter((v) => v !== undefined).length <= 1,
    { message: 'only one of exact, prefix, regex may be set' },
  );
export type IstioStringMatch = z.infer<typeof IstioStringMatchSchema>;

export const IstioPortSelectorSchema = z.strictObject({
  number: z.number().int().min(1).max(65535),
});

export const IstioHeaderOpsSchema = z.strictObject({
  set: z.record(z.string(), z.string()).optional(),
  add: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional(),
});
export type IstioHeaderOps = z.infer<typeof IstioHeaderOpsSchema>;

export const IstioHeadersSchema = z.strictObject({
  request: IstioHeaderOpsSchema.optional(),
  response: IstioHeaderOpsSchema.optional(),
});
export type IstioHeaders = z.infer<typeof IstioHeadersSchema>;

/**
 * Kubernetes object metadata: loose on purpose. `kubectl get -o yaml` output
 * carries uid, resourceVersion, managedFields, ... which mean nothing here.
 */
export const IstioMetadataSchema = z.looseObject({
  name: z.string().min(1, 'metadata.name is required'),
  namespace: z.string().min(1).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const HTTP_STATUS = z.number().int().min(200, 'status must be within 200..599').max(599, 'status must be within 200..599');

/** A field Istio has whose value Meshlet does not interpret (field-support.ts says what happens to it). */
export const declared = z.unknown().optional();
