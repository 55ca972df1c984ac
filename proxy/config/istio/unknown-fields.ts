// Turns zod's `unrecognized_keys` issues (every Istio schema is a strict
// object) into one message per unknown field, naming the closest field the
// schema does know: `unknown field "timout" (did you mean \`timeout\`?)`.
// The known names are read from the schema itself at the issue's path, so a
// field added to a schema is known everywhere at once.

import type { z } from 'zod';
import { didYouMean } from '../validate/did-you-mean.js';

interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, SchemaLike>;
  readonly innerType?: SchemaLike;
  readonly element?: SchemaLike;
  readonly valueType?: SchemaLike;
  readonly in?: SchemaLike;
  readonly options?: readonly SchemaLike[];
}
interface SchemaLike {
  readonly _zod: { readonly def: SchemaDef };
}

/** The object shapes reachable at `path` (unions may give several). */
function shapesAt(schema: SchemaLike, path: readonly PropertyKey[]): Record<string, SchemaLike>[] {
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
      return def.innerType ? shapesAt(def.innerType, path) : [];
    case 'pipe':
      return def.in ? shapesAt(def.in, path) : [];
    case 'union':
      return (def.options ?? []).flatMap((o) => shapesAt(o, path));
    case 'object': {
      if (path.length === 0) return def.shape ? [def.shape] : [];
      const child = def.shape?.[String(path[0])];
      return child ? shapesAt(child, path.slice(1)) : [];
    }
    case 'array':
      return path.length > 0 && def.element ? shapesAt(def.element, path.slice(1)) : [];
    case 'record':
      return path.length > 0 && def.valueType ? shapesAt(def.valueType, path.slice(1)) : [];
    default:
      return [];
  }
}

export interface FieldIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * zod issues → field issues: each unknown key becomes its own issue at its own
 * path with a did-you-mean hint; other issues pass through unchanged.
 */
export function explainIssues(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const zi of issues) {
    if (zi.code !== 'unrecognized_keys') {
      out.push({ path: zi.path, message: zi.message });
      continue;
    }
    const known = shapesAt(schema as unknown as SchemaLike, zi.path).flatMap((s) => Object.keys(s));
    for (const key of zi.keys) {
      out.push({ path: [...zi.path, key], message: `unknown field "${key}"${didYouMean(key, known)}` });
    }
  }
  return out;
}
