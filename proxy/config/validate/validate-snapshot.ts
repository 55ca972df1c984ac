// The sidecar's validation of a snapshot from the control plane, without zod:
// the shape by the validator generated at build time from the zod schema
// (generated/snapshot-shape.js, `npm run gen:validator`), then the zod
// refinements JSON Schema cannot express (snapshot-rules.ts, sharing
// model-rules.ts with the schema), then the cross-object rules every
// validated config gets (cross-check.ts). Accepts, strips and rejects exactly
// what validateMeshConfig (zod) does, with issues at the same paths
// (snapshot-shape-equivalence.test.ts). zod costs ~8.6 MiB of RSS in an idle
// sidecar (issue 17); the control plane and --config mode keep using it.
// The validated value is stripped of unknown fields in place.

import type { ConfigIssue, EndpointModel, MeshConfig } from '../model/index.js';
import { crossCheck, resourceAt } from './cross-check.js';
import { customMessages, endpoints as endpointsShape, meshConfig as meshConfigShape, unionPaths, type GeneratedValidator } from './generated/snapshot-shape.js';
import { formatIssuePath, joinIssuePath } from './issue-path.js';
import { shapeIssues, type ShapeIssue } from './shape-errors.js';
import { dropProtoKeys, snapshotRuleIssues } from './snapshot-rules.js';
import type { ValidateResult } from './validate-result.js';

const MESSAGES: Readonly<Record<string, string>> = customMessages;
const UNIONS = new Set<string>(unionPaths);
const unionsOf = (schema: string): Set<string> => new Set([...UNIONS].filter((u) => u.startsWith(`${schema}:`)).map((u) => u.slice(schema.length + 1)));
const MESH_UNIONS = unionsOf('meshConfig');
const ENDPOINT_UNIONS = unionsOf('endpoints');

function shapeAndRules(validate: GeneratedValidator, schema: string, unions: ReadonlySet<string>, value: unknown): ShapeIssue[] {
  const proto = dropProtoKeys(value);
  const ok = validate(value);
  const shape = [...proto, ...(ok ? [] : shapeIssues(validate.errors ?? [], value, schema, MESSAGES, unions))];
  const aborted = new Set(shape.filter((i) => i.aborts).map((i) => JSON.stringify(i.path)));
  const rules = schema === 'meshConfig' ? snapshotRuleIssues(value, aborted) : [];
  return [...shape, ...rules];
}

/** validateMeshConfig for a snapshot decoded from the wire; `config` is stripped in place. */
export function validateSnapshot(config: unknown): ValidateResult {
  const issues = shapeAndRules(meshConfigShape, 'meshConfig', MESH_UNIONS, config);
  if (issues.length > 0) {
    return { ok: false, issues: issues.map((i) => ({ resource: resourceAt(config, i.path), path: formatIssuePath(i.path), reason: i.reason })) };
  }
  const cfg = config as MeshConfig;
  const cross: ConfigIssue[] = crossCheck(cfg);
  return cross.length > 0 ? { ok: false, issues: cross } : { ok: true, config: cfg };
}

export type EndpointsResult = { ok: true; endpoints: EndpointModel[] } | { ok: false; issues: ConfigIssue[] };

/** Shape of endpoints decoded from the wire (`path` prefixes issue paths); stripped in place. */
export function validateEndpoints(cluster: string, endpoints: unknown, path: string): EndpointsResult {
  const issues = shapeAndRules(endpointsShape, 'endpoints', ENDPOINT_UNIONS, endpoints);
  if (issues.length > 0) return { ok: false, issues: issues.map((i) => ({ resource: `Cluster/${cluster}`, path: joinIssuePath(path, formatIssuePath(i.path)), reason: i.reason })) };
  return { ok: true, endpoints: endpoints as EndpointModel[] };
}
