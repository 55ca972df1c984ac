// The sidecar's post-check of a snapshot: the zod refinements of the model
// (model-rules.ts, checkRe2) that the generated validator cannot express, run
// at the same places and under the same conditions as zod runs them. zod runs
// a refinement only when the value it refines has no wrong-typed value in it;
// `aborted` holds the paths of such values (shape-errors.ts), so a snapshot
// with several faults gets the same list of issues from both validators.
// The walk reads defensively: the snapshot may have failed its shape check.

import { checkRe2 } from './re2-pattern.js';
import { conditionHeaderRule, conditionIpRule, IP_BLOCK_REASON, isIpBlock, maglevTableSizeRule, redirectStatusRule, upgradeTypeRule, upstreamTlsRule, type ConditionFields, type UpstreamTlsFields } from './model-rules.js';
import type { Segment, ShapeIssue } from './shape-errors.js';

/** mesh-config-schema.ts MAX_MAGLEV_TABLE_SIZE (the bound itself is in the generated schema). */
const MAX_MAGLEV_TABLE_SIZE = 5_000_011;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const entries = (v: unknown): [string, unknown][] => Object.entries(obj(v) ?? {});

class Walk {
  readonly issues: ShapeIssue[] = [];
  constructor(private readonly aborted: ReadonlySet<string>) {}

  /** Runs `rule` on the value at `path` unless zod would have skipped it. */
  check(path: readonly Segment[], rule: () => string | undefined): void {
    const key = JSON.stringify(path).slice(0, -1);
    for (const a of this.aborted) if (a === `${key}]` || a.startsWith(`${key},`)) return;
    const reason = rule();
    if (reason !== undefined) this.issues.push({ path, reason, aborts: false });
  }

  regex(path: readonly Segment[], v: unknown): void {
    if (typeof v === 'string') this.check(path, () => checkRe2(v));
  }

  stringMatch(path: readonly Segment[], m: unknown): void {
    const o = obj(m);
    if (o?.['kind'] === 'regex') this.regex([...path, 'value'], o['value']);
  }
}

function route(w: Walk, at: readonly Segment[], r: Obj): void {
  list(r['match']).forEach((m, mi) => {
    const mo = obj(m);
    if (mo === undefined) return;
    const mat = [...at, 'match', mi];
    for (const f of ['uri', 'authority', 'method']) w.stringMatch([...mat, f], mo[f]);
    for (const f of ['headers', 'withoutHeaders', 'queryParams']) for (const [k, v] of entries(mo[f])) w.stringMatch([...mat, f, k], v);
  });
  const action = obj(r['action']);
  const status = action?.['status'];
  if (action?.['kind'] === 'redirect' && typeof status === 'number') w.check([...at, 'action', 'status'], () => redirectStatusRule(status));
  const uriRegex = obj(obj(r['rewrite'])?.['uriRegex']);
  if (uriRegex !== undefined) w.regex([...at, 'rewrite', 'uriRegex', 'match'], uriRegex['match']);
  list(r['upgrades']).forEach((u, ui) => {
    if (typeof u === 'string') w.check([...at, 'upgrades', ui], () => upgradeTypeRule(u));
  });
}

function cluster(w: Walk, at: readonly Segment[], c: Obj): void {
  const lb = obj(obj(c['policy'])?.['lb']);
  const size = lb?.['tableSize'];
  if (lb?.['kind'] === 'maglev' && typeof size === 'number') w.check([...at, 'policy', 'lb', 'tableSize'], () => maglevTableSizeRule(size, MAX_MAGLEV_TABLE_SIZE));
  const tls = obj(c['tls']);
  if (tls !== undefined && (tls['mode'] === 'SIMPLE' || tls['mode'] === 'MUTUAL')) w.check([...at, 'tls'], () => upstreamTlsRule(tls as unknown as UpstreamTlsFields));
}

const IP_BLOCK_FIELDS = ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'];

function authorizationPolicy(w: Walk, at: readonly Segment[], p: Obj): void {
  list(p['rules']).forEach((rule, ri) => {
    const r = obj(rule);
    if (r === undefined) return;
    list(r['from']).forEach((from, fi) => {
      const f = obj(from);
      for (const field of IP_BLOCK_FIELDS) {
        list(f?.[field]).forEach((v, vi) => {
          if (typeof v === 'string') w.check([...at, 'rules', ri, 'from', fi, field, vi], () => (isIpBlock(v) ? undefined : IP_BLOCK_REASON));
        });
      }
    });
    list(r['when']).forEach((when, wi) => {
      const c = obj(when);
      if (c === undefined) return;
      const path = [...at, 'rules', ri, 'when', wi];
      w.check(path, () => conditionHeaderRule(c as unknown as ConditionFields));
      w.check(path, () => conditionIpRule(c as unknown as ConditionFields));
    });
  });
}

/**
 * Issues of the refinements, for a config (after the generated validator
 * stripped it). `aborted`: JSON-stringified paths of wrong-typed values.
 */
export function snapshotRuleIssues(config: unknown, aborted: ReadonlySet<string>): ShapeIssue[] {
  const w = new Walk(aborted);
  const root = obj(config);
  if (root === undefined) return [];
  list(root['clusters']).forEach((c, ci) => {
    const co = obj(c);
    if (co !== undefined) cluster(w, ['clusters', ci], co);
  });
  list(root['virtualHosts']).forEach((vh, vi) => {
    list(obj(vh)?.['routes']).forEach((r, ri) => {
      const ro = obj(r);
      if (ro !== undefined) route(w, ['virtualHosts', vi, 'routes', ri], ro);
    });
  });
  list(root['authorizationPolicies']).forEach((p, pi) => {
    const po = obj(p);
    if (po !== undefined) authorizationPolicy(w, ['authorizationPolicies', pi], po);
  });
  return w.issues;
}

/** Paths of the strict objects (AuthorizationPolicyModel and its parts): zod refuses their unknown keys. */
const STRICT = /^\["authorizationPolicies",\d+(,"rules",\d+(,"(from|to|when)",\d+)?)?\]$/;

/**
 * Removes own `__proto__` keys (JSON.parse makes them) before the shape check,
 * as zod does: it strips them from objects and skips them in maps. In a strict
 * object zod reports them as unknown keys: so does this.
 */
export function dropProtoKeys(v: unknown, at: Segment[] = [], out: ShapeIssue[] = []): ShapeIssue[] {
  if (Array.isArray(v)) v.forEach((x, i) => dropProtoKeys(x, [...at, i], out));
  else if (typeof v === 'object' && v !== null) {
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) {
      if (STRICT.test(JSON.stringify(at))) out.push({ path: at, reason: 'Unrecognized key: "__proto__"', aborts: false });
      delete (v as Obj)['__proto__'];
    }
    for (const [k, x] of Object.entries(v)) dropProtoKeys(x, [...at, k], out);
  }
  return out;
}
