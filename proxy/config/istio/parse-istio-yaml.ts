// YAML text → schema-checked Istio resources. Every problem in every document
// is collected (never stop at the first); a document that fails its schema is
// reported and left out, so translation only sees well-formed objects.

import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue } from '../model/index.js';
import { formatIssuePath } from '../validate/issue-path.js';
import { IstioDestinationRuleSpecSchema } from './destination-rule-schema.js';
import { IstioMetadataSchema } from './istio-common-schema.js';
import {
  DEFAULT_NAMESPACE,
  ISTIO_GROUP,
  ISTIO_VERSIONS,
  type IstioKind,
  type IstioMetadata,
  type IstioResource,
} from './istio-resource.js';
import { IstioServiceEntrySpecSchema } from './service-entry-schema.js';
import { IstioVirtualServiceSpecSchema } from './virtual-service-schema.js';

export interface ParseResult {
  readonly resources: IstioResource[];
  readonly issues: ConfigIssue[];
}

const SPEC_SCHEMAS: Readonly<Record<IstioKind, z.ZodType>> = {
  ServiceEntry: IstioServiceEntrySpecSchema,
  DestinationRule: IstioDestinationRuleSpecSchema,
  VirtualService: IstioVirtualServiceSpecSchema,
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSupportedKind(kind: unknown): kind is IstioKind {
  return kind === 'ServiceEntry' || kind === 'DestinationRule' || kind === 'VirtualService';
}

/** Parses one multi-document YAML text. `file` is only used to label issues and resources. */
export function parseIstioYaml(text: string, file?: string): ParseResult {
  const resources: IstioResource[] = [];
  const issues: ConfigIssue[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  // parseAllDocuments returns an EmptyStream (array-like) for empty input.
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, i) => {
    const where = `(document ${i + 1})`;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) issues.push({ ...(file ? { file } : {}), resource: where, path: '', reason: `YAML: ${e.message}` });
      return;
    }
    let value: unknown;
    try {
      // An alias bomb (billion laughs) throws here instead of expanding.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      issues.push({ ...(file ? { file } : {}), resource: where, path: '', reason: `YAML: ${(err as Error).message}` });
      return;
    }
    collect(value, where, file, resources, issues);
  });
  return { resources, issues };
}

/**
 * One already-decoded object (e.g. from the Kubernetes API) → the same
 * checked resource or issues as a YAML document. `where` labels issues of
 * objects too malformed to name.
 */
export function parseIstioObject(value: unknown, where: string): ParseResult {
  const resources: IstioResource[] = [];
  const issues: ConfigIssue[] = [];
  collect(value, where, undefined, resources, issues);
  return { resources, issues };
}

function collect(value: unknown, where: string, file: string | undefined, out: IstioResource[], issues: ConfigIssue[]): void {
  if (value === null || value === undefined) return; // empty document
  const fileField = file ? { file } : {};
  if (!isRecord(value)) {
    issues.push({ ...fileField, resource: where, path: '', reason: 'document is not a mapping' });
    return;
  }
  // `kind: List` (what `kubectl get -o yaml` prints) wraps resources in items.
  if (value['kind'] === 'List' && Array.isArray(value['items'])) {
    value['items'].forEach((item: unknown, j: number) => collect(item, `${where} items[${j}]`, file, out, issues));
    return;
  }
  const apiVersion = value['apiVersion'];
  const kind = value['kind'];
  if (typeof apiVersion !== 'string' || !apiVersion.startsWith(`${ISTIO_GROUP}/`)) return; // not ours: ignore silently
  if (!isSupportedKind(kind)) return; // Gateway, Sidecar, ... : ignored on purpose
  const rawMeta = isRecord(value['metadata']) ? value['metadata'] : {};
  const ns = typeof rawMeta['namespace'] === 'string' && rawMeta['namespace'] !== '' ? rawMeta['namespace'] : DEFAULT_NAMESPACE;
  const nameGuess = typeof rawMeta['name'] === 'string' && rawMeta['name'] !== '' ? rawMeta['name'] : `<unnamed ${where}>`;
  const resource = `${kind}/${ns}/${nameGuess}`;
  const before = issues.length;

  const version = apiVersion.slice(ISTIO_GROUP.length + 1);
  if (!ISTIO_VERSIONS.includes(version)) {
    issues.push({ ...fileField, resource, path: 'apiVersion', reason: `unsupported version "${version}" (use v1, v1beta1 or v1alpha3)` });
  }
  const meta = IstioMetadataSchema.safeParse(value['metadata'] ?? {});
  if (!meta.success) pushZodIssues(meta.error.issues, 'metadata', resource, fileField, issues);
  const spec = SPEC_SCHEMAS[kind].safeParse(value['spec']);
  if (!spec.success) pushZodIssues(spec.error.issues, 'spec', resource, fileField, issues);
  if (issues.length > before || !meta.success || !spec.success) return;

  const metadata: IstioMetadata = {
    name: meta.data.name,
    namespace: ns,
    annotations: meta.data.annotations ?? {},
    labels: meta.data.labels ?? {},
  };
  // The cast is sound: SPEC_SCHEMAS pairs each kind with its own schema.
  out.push({ kind, apiVersion, metadata, spec: spec.data, ...fileField } as IstioResource);
}

function pushZodIssues(
  zodIssues: readonly z.core.$ZodIssue[],
  root: string,
  resource: string,
  fileField: { file?: string },
  issues: ConfigIssue[],
): void {
  for (const zi of zodIssues) {
    issues.push({ ...fileField, resource, path: formatIssuePath([root, ...zi.path]), reason: zi.message });
  }
}
