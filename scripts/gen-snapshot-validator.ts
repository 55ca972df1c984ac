// `npm run gen:validator`: writes proxy/config/validate/generated/snapshot-shape.js,
// the sidecar's validator of config snapshots, generated ahead of time from
// the zod schema of the model (MeshConfigSchema, EndpointSchema): zod →
// JSON Schema → Ajv standalone code. The sidecar then checks snapshots
// without loading zod (~8.6 MiB of RSS, issue 17). The zod refinements JSON
// Schema cannot express run afterwards, from model-rules.ts (snapshot-rules.ts).
// snapshot-shape-drift.test.ts regenerates in memory and fails when the
// committed file differs, so the generated validator cannot drift from zod.
// It is plain JavaScript with a hand-written snapshot-shape.d.ts, copied to
// dist/ by `npm run build`: compiled by tsc, the same code is reprinted at
// 2.6× the size and costs ~1.4 MiB more RSS once loaded.
//
// Mapping of zod semantics onto Ajv (snapshot-shape-equivalence.test.ts checks it):
// - zod strips unknown keys of a plain object: `additionalProperties: false`
//   with Ajv's `removeAdditional: true` removes them.
// - a strict object (zod refuses unknown keys, e.g. AuthorizationPolicyModel):
//   `propertyNames: { enum: [...] }`, so an unknown key is an error, not removed.
// - a discriminated union: Ajv's `discriminator`, so only the matching branch
//   is evaluated (and stripped); a union of discriminated unions is flattened.
// - custom zod messages of bound/pattern checks are kept in a table keyed by
//   Ajv's schemaPath.
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import Ajv2020 from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { EndpointSchema, MeshConfigSchema } from '../proxy/config/validate/mesh-config-schema.js';

export const GENERATED_PATH = fileURLToPath(new URL('../proxy/config/validate/generated/snapshot-shape.js', import.meta.url));

type Json = { [k: string]: unknown };
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** zod check kind → JSON Schema keyword that encodes it. */
function keywordOf(check: string, inclusive: boolean, type: unknown): string | undefined {
  switch (check) {
    case 'greater_than': return inclusive ? 'minimum' : 'exclusiveMinimum';
    case 'less_than': return inclusive ? 'maximum' : 'exclusiveMaximum';
    case 'min_length': return type === 'array' ? 'minItems' : 'minLength';
    case 'max_length': return type === 'array' ? 'maxItems' : 'maxLength';
    case 'string_format': return 'pattern';
    default: return undefined;
  }
}

function toJson(schema: z.ZodType): Json {
  const js = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const messages: Record<string, string> = {};
      for (const c of (ctx.zodSchema._zod.def as { checks?: { _zod: { def: { check: string; inclusive?: boolean; error?: (i: unknown) => unknown } } }[] }).checks ?? []) {
        const d = c._zod.def;
        const msg = d.error?.({});
        const kw = keywordOf(d.check, d.inclusive !== false, ctx.jsonSchema.type);
        if (typeof msg === 'string' && kw !== undefined) messages[kw] = msg;
      }
      if (Object.keys(messages).length > 0) (ctx.jsonSchema as Json)['x-messages'] = messages;
    },
  });
  return JSON.parse(JSON.stringify(js)) as Json;
}

/** The tag shared by every branch (each an object requiring it, with const/enum), if any. */
function tagOf(branches: unknown[]): string | undefined {
  const first = branches[0];
  if (!isObj(first) || !Array.isArray(first['required'])) return undefined;
  for (const tag of first['required'] as string[]) {
    const ok = branches.every((b) => isObj(b) && Array.isArray(b['required']) && (b['required'] as string[]).includes(tag) && isObj(b['properties']) && isObj((b['properties'] as Json)[tag]) && ('const' in ((b['properties'] as Json)[tag] as Json) || 'enum' in ((b['properties'] as Json)[tag] as Json)));
    if (ok) return tag;
  }
  return undefined;
}

/** Rewrites zod's JSON Schema in place for Ajv (see the header), collecting custom messages by schemaPath. */
function adapt(node: unknown, path: string, messages: Record<string, string>, unions: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((n, i) => adapt(n, `${path}/${i}`, messages, unions));
    return;
  }
  if (!isObj(node)) return;
  const custom = node['x-messages'];
  if (isObj(custom)) for (const [kw, msg] of Object.entries(custom)) messages[`${path}/${kw}`] = String(msg);
  delete node['x-messages'];
  // z.union([discriminatedUnion, object]) → one discriminated oneOf (zod reports its errors at the union: x-union)
  if (Array.isArray(node['anyOf'])) {
    const flat = (node['anyOf'] as unknown[]).flatMap((b) => (isObj(b) && Array.isArray(b['oneOf']) ? (b['oneOf'] as unknown[]) : [b]));
    if (tagOf(flat) !== undefined) {
      delete node['anyOf'];
      node['oneOf'] = flat;
      unions.push(path);
    }
  }
  if (Array.isArray(node['oneOf'])) {
    const tag = tagOf(node['oneOf'] as unknown[]);
    if (tag === undefined) throw new Error(`${path}: a oneOf without a common tag cannot be stripped safely`);
    node['type'] = 'object';
    node['discriminator'] = { propertyName: tag };
  }
  if (Array.isArray(node['anyOf'])) throw new Error(`${path}: anyOf would strip keys of branches that fail`);
  if (node['type'] === 'object' && isObj(node['properties'])) {
    if (node['additionalProperties'] === false) {
      delete node['additionalProperties'];
      node['propertyNames'] = { enum: Object.keys(node['properties']) };
    } else if (node['additionalProperties'] === undefined) {
      node['additionalProperties'] = false;
    }
  }
  for (const [k, v] of Object.entries(node)) adapt(v, `${path}/${k}`, messages, unions);
}

export interface SnapshotShapeSchemas {
  readonly meshConfig: Json;
  readonly endpoints: Json;
  readonly messages: Record<string, string>;
  /** schemaPaths (`<schema>:#/...`) of zod unions of several objects, which zod reports at the union. */
  readonly unions: string[];
}

export function snapshotShapeSchemas(): SnapshotShapeSchemas {
  const messages: Record<string, string> = {};
  const meshConfig = toJson(MeshConfigSchema);
  const endpoints = toJson(z.array(EndpointSchema));
  delete meshConfig['$schema'];
  delete endpoints['$schema'];
  const mm: Record<string, string> = {};
  const mu: string[] = [];
  adapt(meshConfig, '#', mm, mu);
  const em: Record<string, string> = {};
  const eu: string[] = [];
  adapt(endpoints, '#', em, eu);
  for (const [k, v] of Object.entries(mm)) messages[`meshConfig:${k}`] = v;
  for (const [k, v] of Object.entries(em)) messages[`endpoints:${k}`] = v;
  return { meshConfig, endpoints, messages, unions: [...mu.map((u) => `meshConfig:${u}`), ...eu.map((u) => `endpoints:${u}`)] };
}

/** The text of the generated module. */
export function snapshotShapeSource(): string {
  const { meshConfig, endpoints, messages, unions } = snapshotShapeSchemas();
  const ajv = new Ajv2020.default({
    code: { source: true, esm: true },
    allErrors: true,
    removeAdditional: true,
    strict: false,
    discriminator: true,
    // Deprecated in Ajv 8 but still honoured: minLength compiles to `.length` (zod's measure),
    // with no ucs2length require. Should a later Ajv drop it, the require check below fails.
    unicode: false,
    unicodeRegExp: false,
    messages: false,
    logger: false, // only the deprecation note above would be logged
  });
  ajv.addSchema(meshConfig, 'meshConfig');
  ajv.addSchema(endpoints, 'endpoints');
  const code = standaloneCode.default(ajv, { meshConfig: 'meshConfig', endpoints: 'endpoints' });
  if (/require\(/.test(code)) throw new Error('generated validator needs an Ajv runtime module: keep it self-contained');
  return [
    '// GENERATED by `npm run gen:validator` (scripts/gen-snapshot-validator.ts) from the zod schema in',
    '// mesh-config-schema.ts. Do not edit: snapshot-shape-drift.test.ts fails when this file differs from',
    '// what the schema produces now.',
    '/* eslint-disable */',
    code.replace(/^"use strict";\n?/, ''),
    '',
    `export const customMessages = ${JSON.stringify(messages, null, 2)};`,
    '',
    `export const unionPaths = ${JSON.stringify(unions, null, 2)};`,
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(GENERATED_PATH, snapshotShapeSource());
  process.stdout.write(`wrote ${GENERATED_PATH}\n`);
}
