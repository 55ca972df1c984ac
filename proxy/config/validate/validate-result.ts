import type { ConfigIssue, MeshConfig } from '../model/index.js';

/** What validating a MeshConfig gives, with zod (validate-mesh-config.ts) or without (validate-snapshot.ts). */
export type ValidateResult = { ok: true; config: MeshConfig } | { ok: false; issues: ConfigIssue[] };
