// zod 4's JSON Schema (draft 2020-12) → a Kubernetes *structural* schema, the
// form apiextensions.k8s.io/v1 requires: every node typed, no $ref, no
// additionalProperties beside properties, no const/exclusive-number
// draft-2020 forms, unions folded. An object that accepts unknown fields
// (zod looseObject: `additionalProperties: {}` beside properties) keeps them
// with x-kubernetes-preserve-unknown-fields, so the API server does not prune
// the parts of Istio's API Meshlet does not model; maps (records) stay
// `additionalProperties: <schema>`.
type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keywords kept as they are (everything else is dropped or rewritten). */
const KEEP = new Set(['type', 'description', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems', 'enum', 'required', 'minProperties', 'maxProperties']);

export function toStructural(node: unknown, defs: Json = {}): Json {
  if (!isObj(node)) return { 'x-kubernetes-preserve-unknown-fields': true };
  const localDefs = isObj(node['$defs']) ? { ...defs, ...node['$defs'] } : defs;
  if (typeof node['$ref'] === 'string') {
    const name = node['$ref'].replace(/^#\/\$defs\//, '');
    const target = localDefs[name];
    // A recursive type cannot be inlined: keep it open at that depth.
    return isObj(target) && !JSON.stringify(target).includes(`"#/$defs/${name}"`) ? toStructural(target, localDefs) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }
  const union = (node['anyOf'] ?? node['oneOf']) as unknown;
  if (Array.isArray(union)) return foldUnion(union.map((b) => toStructural(b, localDefs)).filter((b) => b['type'] !== 'null'));
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) if (KEEP.has(k)) out[k] = v;
  if ('const' in node) out['enum'] = [node['const']];
  if (typeof node['exclusiveMinimum'] === 'number') Object.assign(out, { minimum: node['exclusiveMinimum'], exclusiveMinimum: true });
  if (typeof node['exclusiveMaximum'] === 'number') Object.assign(out, { maximum: node['exclusiveMaximum'], exclusiveMaximum: true });
  if (Array.isArray(out['type'])) {
    const types = (out['type'] as string[]).filter((t) => t !== 'null');
    out['type'] = types.length === 1 ? types[0] : undefined;
    if (types.length !== 1) return { 'x-kubernetes-int-or-string': types.every((t) => t === 'integer' || t === 'string') || undefined, 'x-kubernetes-preserve-unknown-fields': types.some((t) => t === 'object' || t === 'array') || undefined };
  }
  if (isObj(node['items'])) out['items'] = toStructural(node['items'], localDefs);
  else if (out['type'] === 'array') out['items'] = { 'x-kubernetes-preserve-unknown-fields': true };
  if (isObj(node['properties'])) {
    out['type'] = 'object';
    out['properties'] = Object.fromEntries(Object.entries(node['properties']).map(([k, v]) => [k, toStructural(v, localDefs)]));
    const extra = node['additionalProperties'];
    if (extra === undefined || (isObj(extra) && Object.keys(extra).length === 0) || extra === true) out['x-kubernetes-preserve-unknown-fields'] = true;
  } else if (out['type'] === 'object' || node['additionalProperties'] !== undefined) {
    out['type'] = 'object';
    const extra = node['additionalProperties'];
    if (isObj(extra) && Object.keys(extra).length > 0) out['additionalProperties'] = toStructural(extra, localDefs);
    else if (extra !== false) out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  if (out['type'] === undefined && !out['x-kubernetes-preserve-unknown-fields']) out['x-kubernetes-preserve-unknown-fields'] = true;
  return clean(out);
}

function clean(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** One schema for a union: same scalar type → merged enums; objects → merged properties; else open. */
function foldUnion(branches: Json[]): Json {
  if (branches.length === 1) return branches[0] ?? {};
  const types = new Set(branches.map((b) => b['type']));
  if (types.size === 1 && [...types][0] !== undefined && [...types][0] !== 'object' && [...types][0] !== 'array') {
    const enums = branches.every((b) => Array.isArray(b['enum'])) ? branches.flatMap((b) => b['enum'] as unknown[]) : undefined;
    return clean({ type: [...types][0], enum: enums });
  }
  if (types.size === 1 && [...types][0] === 'object') {
    const properties: Json = {};
    for (const b of branches) if (isObj(b['properties'])) Object.assign(properties, b['properties']);
    return { type: 'object', properties, 'x-kubernetes-preserve-unknown-fields': true };
  }
  if ([...types].every((t) => t === 'integer' || t === 'string')) return { 'x-kubernetes-int-or-string': true };
  return { 'x-kubernetes-preserve-unknown-fields': true };
}
