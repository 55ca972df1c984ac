// Validates an untrusted value (a decoded snapshot, or translate's output in
// tests) against the model: shape via the zod schema, then the cross-object
// rules the schema cannot express. Reports every issue, each located by a
// path from the config root and the object it concerns.

import type { MeshConfig } from '../model/index.js';
import { formatIssuePath } from './issue-path.js';
import { MeshConfigSchema } from './mesh-config-schema.js';
import { crossCheck, resourceAt } from './cross-check.js';
import type { ValidateResult } from './validate-result.js';

export { MAX_RING_POINTS } from './cross-check.js';

export type { ValidateResult } from './validate-result.js';

export function validateMeshConfig(config: unknown): ValidateResult {
  const parsed = MeshConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((zi) => ({
      resource: resourceAt(config, zi.path),
      path: formatIssuePath(zi.path),
      reason: zi.message,
    }));
    return { ok: false, issues };
  }
  const cfg: MeshConfig = parsed.data;
  const issues = crossCheck(cfg);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, config: cfg };
}
