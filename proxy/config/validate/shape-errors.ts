// Turns the generated validator's errors (Ajv's: a JSON Pointer into the data,
// a keyword, its params) into the path segments and reasons zod reports for
// the same input, so a sidecar NACK reads like a control-plane rejection:
// `clusters[0].port`, not `/clusters/0/port`. Also says which errors stop zod
// from running a refinement above them (zod skips an object's refinements
// when a value under it has the wrong type, but not when it is only out of
// range), which snapshot-rules.ts needs to report exactly what zod reports.

export interface ShapeError {
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly propertyName?: string;
}

export type Segment = string | number;

export interface ShapeIssue {
  readonly path: readonly Segment[];
  readonly reason: string;
  /** zod would not run a refinement on this value or any value containing it. */
  readonly aborts: boolean;
}

/** Keywords whose failure zod reports as a check that lets later checks run. */
const CONTINUABLE = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'pattern']);

/** JSON Pointer → segments; a segment is a number where the data there is an array. */
export function pointerSegments(pointer: string, root: unknown): Segment[] {
  if (pointer === '') return [];
  const out: Segment[] = [];
  let at: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(at)) {
      out.push(Number(key));
      at = at[Number(key)];
    } else {
      out.push(key);
      at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
    }
  }
  return out;
}

function received(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function valueAt(root: unknown, path: readonly Segment[]): unknown {
  let at = root;
  for (const s of path) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[s as string] : undefined;
  return at;
}

function bound(e: ShapeError, what: string): string {
  const limit = e.params['limit'];
  const op = e.keyword.startsWith('exclusive') ? '' : '=';
  if (e.keyword.endsWith('inimum') || e.keyword.startsWith('min')) return `Too small: expected ${what} to be >${op}${String(limit)}`;
  return `Too big: expected ${what} to be <${op}${String(limit)}`;
}

/**
 * One issue per error, in zod's words where zod has custom ones (`messages`,
 * keyed by `<schema>:<schemaPath>`), or a reason of the same form as zod's default.
 * `unions` are the schemaPaths of unions zod reports at the union itself.
 */
export function shapeIssues(errors: readonly ShapeError[], root: unknown, schema: string, messages: Readonly<Record<string, string>>, unions: ReadonlySet<string>): ShapeIssue[] {
  const out = errors.flatMap((e) => issueOf(e, root, schema, messages, unions).map((issue) => ({ issue, union: unionOf(e.schemaPath, unions) })));
  // zod tries each option of a union; when every option fails on a wrong type,
  // it reports one issue at the union itself and nothing under it.
  const failedUnions = new Set<string>();
  for (const { issue, union } of out) if (union !== undefined && issue.aborts) failedUnions.add(JSON.stringify(issue.path.slice(0, union)));
  const seen = new Set<string>();
  const issues: ShapeIssue[] = [];
  for (const { issue, union } of out) {
    const key = union === undefined ? undefined : JSON.stringify(issue.path.slice(0, union));
    const one = key !== undefined && failedUnions.has(key) ? { path: issue.path.slice(0, union), reason: 'Invalid input', aborts: true } : issue;
    const id = `${JSON.stringify(one.path)}\n${one.reason}`;
    if (!seen.has(id)) issues.push(one);
    seen.add(id);
  }
  return issues;
}

/** Data depth of the union (of `unions`) a schema location is in, if any. */
function unionOf(schemaPath: string, unions: ReadonlySet<string>): number | undefined {
  for (const u of unions) {
    if (schemaPath !== u && !schemaPath.startsWith(`${u}/`)) continue;
    const tokens = u.split('/').slice(1);
    let depth = 0;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t === 'properties') {
        depth++;
        i++;
      } else if (t === 'items' || t === 'additionalProperties') depth++;
      else if (t === 'oneOf' || t === 'anyOf') i++;
    }
    return depth;
  }
  return undefined;
}

function issueOf(e: ShapeError, root: unknown, schema: string, messages: Readonly<Record<string, string>>, unions: ReadonlySet<string>): ShapeIssue[] {
  const out: ShapeIssue[] = [];
  {
    const at = pointerSegments(e.instancePath, root);
    const custom = messages[`${schema}:${e.schemaPath}`];
    if (e.propertyName !== undefined) {
      // An error about a key: an unknown key of a strict object (zod: `unrecognized_keys`
      // at the object, checks still run) or a record key that fails its pattern (at the key).
      if (e.schemaPath.endsWith('/propertyNames/enum')) out.push({ path: at, reason: `Unrecognized key: "${e.propertyName}"`, aborts: false });
      else out.push({ path: [...at, e.propertyName], reason: 'Invalid key in record', aborts: true });
      return out;
    }
    const value = valueAt(root, at);
    switch (e.keyword) {
      case 'propertyNames':
        return out; // reported by the error about the key itself, above
      case 'required':
        out.push({ path: [...at, String(e.params['missingProperty'])], reason: 'Invalid input: expected a value, received undefined', aborts: true });
        break;
      case 'type': {
        const expected = e.params['type'] === 'integer' ? 'int' : String(e.params['type']);
        out.push({ path: at, reason: `Invalid input: expected ${expected}, received ${received(value)}`, aborts: !(expected === 'int' && typeof value === 'number') });
        break;
      }
      case 'enum':
        out.push({ path: at, reason: `Invalid option: expected one of ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join('|')}`, aborts: true });
        break;
      case 'const':
        out.push({ path: at, reason: `Invalid input: expected ${JSON.stringify(e.params['allowedValue'])}`, aborts: true });
        break;
      case 'discriminator': {
        const tag = String(e.params['tag']);
        const atUnion = unions.has(e.schemaPath.replace(/\/discriminator$/, ''));
        out.push({ path: atUnion ? at : [...at, tag], reason: atUnion ? 'Invalid input' : `Invalid discriminator value: ${JSON.stringify(e.params['tagValue'])}`, aborts: true });
        break;
      }
      default:
        if (CONTINUABLE.has(e.keyword)) {
          const what = e.keyword.endsWith('Items') ? 'array' : e.keyword.endsWith('Length') ? 'string' : 'number';
          out.push({ path: at, reason: custom ?? (e.keyword === 'pattern' ? `Invalid string: must match pattern /${String(e.params['pattern'])}/` : bound(e, what)), aborts: false });
        } else {
          out.push({ path: at, reason: `invalid (${e.keyword})`, aborts: true });
        }
    }
  }
  return out;
}
