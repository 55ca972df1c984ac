// Types of snapshot-shape.js, the Ajv standalone validators generated from the
// zod schema by `npm run gen:validator` (scripts/gen-snapshot-validator.ts).
// Hand-written: the shape of the exports does not depend on the schema.

/** One Ajv error (messages are off: validate-snapshot.ts words the reasons). */
export interface GeneratedError {
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly propertyName?: string;
}

/** Validates and strips unknown keys of non-strict objects in place; `errors` after a failure. */
export interface GeneratedValidator {
  (data: unknown): boolean;
  errors?: GeneratedError[] | null;
}

export declare const meshConfig: GeneratedValidator;
export declare const endpoints: GeneratedValidator;
/** zod's custom messages, keyed by `<schema>:<Ajv schemaPath>`. */
export declare const customMessages: Readonly<Record<string, string>>;
/** `<schema>:<schemaPath>` of zod unions of several objects (zod reports their failures at the union). */
export declare const unionPaths: readonly string[];
