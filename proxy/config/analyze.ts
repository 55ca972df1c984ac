// The one config check every entry point runs: `meshlet analyze`, the
// standalone proxy and the control plane. Files → YAML + strict schemas →
// translation → model validation (the same checks a sidecar runs on a pushed
// snapshot), every problem collected at once, each with file, resource, field
// path, reason and severity.

import { loadIstioPath } from './istio/index.js';
import { isError, type ConfigIssue, type MeshConfig } from './model/index.js';
import { translate } from './translate/index.js';
import { validateMeshConfig } from './validate/index.js';

export interface AnalyzeResult {
  /** Present only when there are no errors. */
  readonly config: MeshConfig | undefined;
  readonly errors: readonly ConfigIssue[];
  /** Warnings (accepted, not applied) and info notes (skipped documents). */
  readonly warnings: readonly ConfigIssue[];
}

/**
 * @param now clock for `meshlet.io/experiment-ttl` expiries (ms since epoch).
 */
export async function analyzePaths(paths: readonly string[], now: number = Date.now()): Promise<AnalyzeResult> {
  const loaded = await Promise.all(paths.map((p) => loadIstioPath(p)));
  const resources = loaded.flatMap((l) => l.resources);
  const errors: ConfigIssue[] = loaded.flatMap((l) => l.issues);
  const warnings: ConfigIssue[] = loaded.flatMap((l) => l.warnings);
  const t = translate(resources, now);
  warnings.push(...(t.warnings ?? []));
  if (!t.ok) return { config: undefined, errors: [...errors, ...t.issues], warnings };
  // The model check a sidecar runs on every pushed snapshot, run here too so
  // the control plane never pushes what a sidecar would refuse.
  const v = validateMeshConfig(t.config);
  if (!v.ok) errors.push(...v.issues.filter(isError));
  return errors.length > 0 ? { config: undefined, errors, warnings } : { config: t.config, errors, warnings };
}
