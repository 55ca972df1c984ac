// YAML text → schema-checked Istio resources. Every problem in every document
// is collected (never stop at the first); a document that fails its schema is
// reported and left out, so translation only sees well-formed objects.
// Nothing is dropped silently: an Istio kind Meshlet does not handle is an
// error, a document of another API group is skipped with an `info` note, and
// a declared-but-unapplied field is a warning or an error (field-support.ts).

import { parseAllDocuments } from 'yaml';
import type { ConfigIssue } from '../model/index.js';
import { didYouMean } from '../validate/did-you-mean.js';
import { formatIssuePath } from '../validate/issue-path.js';
import { findUnappliedFields } from './field-support.js';
import { IstioMetadataSchema } from './istio-common-schema.js';
import { KIND_SCHEMAS, UNSUPPORTED_KINDS, isIstioApiGroup } from './istio-kinds.js';
import { DEFAULT_NAMESPACE, ISTIO_VERSIONS, type IstioKind, type IstioMetadata, type IstioResource } from './istio-resource.js';
import { explainIssues } from './unknown-fields.js';

export interface ParseResult {
  readonly resources: IstioResource[];
  /** Errors: the config must not be applied. */
  readonly issues: ConfigIssue[];
  /** Warnings (accepted, not applied) and info notes (skipped documents). */
  readonly warnings: ConfigIssue[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSupportedKind(kind: unknown): kind is IstioKind {
  return typeof kind === 'string' && Object.hasOwn(KIND_SCHEMAS, kind);
}

/** Parses one multi-document YAML text. `file` is only used to label issues and resources. */
export function parseIstioYaml(text: string, file?: string): ParseResult {
  const out: ParseResult = { resources: [], issues: [], warnings: [] };
  const docs = parseAllDocuments(text, { prettyErrors: true });
  // parseAllDocuments returns an EmptyStream (array-like) for empty input.
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, i) => {
    const where = `(document ${i + 1})`;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) out.issues.push({ ...(file ? { file } : {}), resource: where, path: '', reason: `YAML: ${e.message}` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias bomb (more alias expansions than maxAliasCount) lands here.
      out.issues.push({ ...(file ? { file } : {}), resource: where, path: '', reason: `YAML: ${(err as Error).message}` });
      return;
    }
    collect(value, where, file, out);
  });
  return out;
}

/**
 * One already-decoded object (e.g. from the Kubernetes API) → the same
 * checked resource or issues as a YAML document. `where` labels issues of
 * objects too malformed to name.
 */
export function parseIstioObject(value: unknown, where: string): ParseResult {
  const out: ParseResult = { resources: [], issues: [], warnings: [] };
  collect(value, where, undefined, out);
  return out;
}

function collect(value: unknown, where: string, file: string | undefined, out: ParseResult): void {
  if (value === null || value === undefined) return; // empty document
  const fileField = file ? { file } : {};
  if (!isRecord(value)) {
    out.issues.push({ ...fileField, resource: where, path: '', reason: 'document is not a mapping' });
    return;
  }
  // `kind: List` (what `kubectl get -o yaml` prints) wraps resources in items.
  if (value['kind'] === 'List' && Array.isArray(value['items'])) {
    value['items'].forEach((item: unknown, j: number) => collect(item, `${where} items[${j}]`, file, out));
    return;
  }
  const apiVersion = value['apiVersion'];
  const kind = value['kind'];
  const rawMeta = isRecord(value['metadata']) ? value['metadata'] : {};
  const ns = typeof rawMeta['namespace'] === 'string' && rawMeta['namespace'] !== '' ? rawMeta['namespace'] : DEFAULT_NAMESPACE;
  const nameGuess = typeof rawMeta['name'] === 'string' && rawMeta['name'] !== '' ? rawMeta['name'] : `<unnamed ${where}>`;
  const resource = `${typeof kind === 'string' ? kind : '<no kind>'}/${ns}/${nameGuess}`;
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    // A mapping without apiVersion is not a Kubernetes object at all (and no Istio kind).
    if (typeof kind === 'string') out.issues.push({ ...fileField, resource, path: 'apiVersion', reason: 'apiVersion is required' });
    return;
  }
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  if (!isIstioApiGroup(group)) {
    out.warnings.push({ ...fileField, resource, path: '', reason: `skipped: ${apiVersion} is not an Istio networking or security API`, severity: 'info' });
    return;
  }
  if (!isSupportedKind(kind)) {
    const unsupported = typeof kind === 'string' ? UNSUPPORTED_KINDS[kind] : undefined;
    if (unsupported !== undefined) {
      const issue: ConfigIssue = { ...fileField, resource, path: 'kind', reason: unsupported.reason, severity: unsupported.severity };
      (unsupported.severity === 'error' ? out.issues : out.warnings).push(issue);
      return;
    }
    const known = [...Object.keys(KIND_SCHEMAS), ...Object.keys(UNSUPPORTED_KINDS)];
    const hint = typeof kind === 'string' ? didYouMean(kind, known) : '';
    out.issues.push({ ...fileField, resource, path: 'kind', reason: `unknown ${group} kind "${String(kind)}"${hint}` });
    return;
  }
  const before = out.issues.length;
  const entry = KIND_SCHEMAS[kind];
  if (entry.group !== group) {
    out.issues.push({ ...fileField, resource, path: 'apiVersion', reason: `${kind} belongs to ${entry.group}, not ${group}` });
  }
  if (!ISTIO_VERSIONS.includes(version)) {
    out.issues.push({ ...fileField, resource, path: 'apiVersion', reason: `unsupported version "${version}" (use v1, v1beta1 or v1alpha3)` });
  }
  const unknownTop = Object.keys(value).filter((k) => !['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(k));
  for (const k of unknownTop) {
    out.issues.push({ ...fileField, resource, path: k, reason: `unknown field "${k}"${didYouMean(k, ['apiVersion', 'kind', 'metadata', 'spec'])}` });
  }
  const meta = IstioMetadataSchema.safeParse(value['metadata'] ?? {});
  if (!meta.success) push(explainIssues(IstioMetadataSchema, meta.error.issues), 'metadata', resource, fileField, out.issues);
  const spec = entry.schema.safeParse(value['spec']);
  if (!spec.success) push(explainIssues(entry.schema, spec.error.issues), 'spec', resource, fileField, out.issues);
  for (const f of findUnappliedFields(kind, value)) {
    const issue: ConfigIssue = { ...fileField, resource, path: f.path, reason: f.reason, severity: f.severity };
    (f.severity === 'error' ? out.issues : out.warnings).push(issue);
  }
  if (out.issues.length > before || !meta.success || !spec.success) return;

  const metadata: IstioMetadata = {
    name: meta.data.name,
    namespace: ns,
    annotations: meta.data.annotations ?? {},
    labels: meta.data.labels ?? {},
  };
  // The cast is sound: KIND_SCHEMAS pairs each kind with its own schema.
  out.resources.push({ kind, apiVersion, metadata, spec: spec.data, ...fileField } as IstioResource);
}

function push(
  fieldIssues: readonly { path: readonly PropertyKey[]; message: string }[],
  root: string,
  resource: string,
  fileField: { file?: string },
  issues: ConfigIssue[],
): void {
  for (const fi of fieldIssues) {
    issues.push({ ...fileField, resource, path: formatIssuePath([root, ...fi.path]), reason: fi.message });
  }
}

