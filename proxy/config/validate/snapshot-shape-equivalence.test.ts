// The sidecar's validator (generated from the zod schema + model-rules
// post-check, validate-snapshot.ts) against zod (validate-mesh-config.ts): for
// every translated example config, a config using every schema branch, and
// fast-check mutations of them (wrong types, missing fields, out-of-range
// numbers, unknown keys, bad regexes, other union tags), both accept exactly
// the same configs with the same stripped output, and reject with issues on
// the same objects and paths. Where zod has a custom reason (a refinement or
// a bound with its own message) the sidecar's reason is the same text; zod's
// default reasons ("Too big: ...") are only paraphrased.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConfigIssue, MeshConfig } from '../model/index.js';
import { exampleConfigs, kitchenSink } from '../../../test/support/mesh-config-corpus.js';
import { validateMeshConfig } from './validate-mesh-config.js';
import { validateSnapshot } from './validate-snapshot.js';
import { validateEndpoints } from './validate-endpoints.js';
import { EndpointSchema } from './mesh-config-schema.js';
import { z } from 'zod';
import { formatIssuePath } from './issue-path.js';

type Seg = string | number;
const DEFAULT_REASON = /^(Invalid|Too (small|big)|Unrecognized)/;

function allPaths(v: unknown, at: Seg[] = [], out: Seg[][] = []): Seg[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => allPaths(x, [...at, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) allPaths(x, [...at, k], out);
  return out;
}

const VALUES: unknown[] = [
  null, true, 0, -1, 1, 1.5, 2, 4, 7, 100, 101, 199, 200, 301, 302.5, 304, 404, 599, 600, 65535, 65536, 65537, 2147483647, 2147483648, 5_000_011, 5_000_012, 8_388_608, 8_388_609, 2 ** 60,
  '', 'x', '(', '(?=a)', '(a)\\1', 'a{1000}', 'h2c', 'websocket', 'Web socket', 'regex', 'present', 'exact', 'prefix', 'maglev', 'ring_hash', 'cookie', 'MUTUAL', 'SIMPLE', 'DISABLE', 'ISTIO_MUTUAL',
  'request.headers', 'source.ip', 'destination.port', '10.0.0.0/33', '10.0.0.1', '::1/129', '80', '0', 'ALLOW', 'static',
  [], [1], ['x'], ['10.0.0.1/8', 'nope'], {}, { kind: 'regex', value: '(' }, { kind: 'regex' }, { kind: 'present' }, { kind: 'bogus' }, { kind: 'maglev', hashKey: { kind: 'source_ip' }, tableSize: 4 },
  { mode: 'MUTUAL' }, { mode: 'MUTUAL', clientCertificate: '', privateKey: 'k' }, { key: 'source.ip', values: ['nope'] }, { key: 'request.headers' }, { key: 'source.ip', header: 'h', extra: 1 },
];
const KEYS = ['extra', '__proto__', 'kind', 'mode', 'header', 'values', 'tableSize', 'clientCertificate', 'weight', 'name', '9080', 'abc'];

interface Mutation { readonly op: 'replace' | 'delete' | 'addKey'; readonly pick: number; readonly value: number; readonly key: number }
const mutation = fc.record({ op: fc.constantFrom<'replace' | 'delete' | 'addKey'>('replace', 'replace', 'delete', 'addKey'), pick: fc.nat(), value: fc.nat(), key: fc.nat() });

function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** A fresh wire copy of `base` with the mutations applied (deterministic, so applied twice gives equal copies). */
function mutate(base: MeshConfig, ms: readonly Mutation[]): unknown {
  let root: unknown = JSON.parse(JSON.stringify(base));
  for (const m of ms) {
    const paths = allPaths(root);
    const path = paths[m.pick % paths.length]!;
    const value = JSON.parse(JSON.stringify(VALUES[m.value % VALUES.length])) as unknown;
    const parent = path.slice(0, -1).reduce<unknown>((o, s) => (o as Record<string, unknown>)[s as string], root) as Record<string, unknown> | unknown[] | undefined;
    const last = path[path.length - 1];
    const node = path.reduce<unknown>((o, s) => (o as Record<string, unknown>)[s as string], root);
    if (m.op === 'addKey') {
      if (typeof node === 'object' && node !== null && !Array.isArray(node)) setOwn(node as Record<string, unknown>, KEYS[m.key % KEYS.length]!, value);
    } else if (last === undefined) {
      if (m.op === 'replace') root = value;
    } else if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete (parent as Record<string, unknown>)[last as string];
    } else if (Array.isArray(parent)) parent[last as number] = value;
    else setOwn(parent as Record<string, unknown>, last as string, value);
  }
  return root;
}

const where = (issues: readonly ConfigIssue[]): string[] => [...new Set(issues.map((i) => `${i.resource} @ ${i.path}`))].sort();

function expectSame(input: () => unknown): void {
  const zod = validateMeshConfig(input());
  const gen = validateSnapshot(input());
  if (zod.ok !== gen.ok) throw new Error(`zod ${zod.ok ? 'accepts' : 'rejects'}, generated ${gen.ok ? 'accepts' : 'rejects'}: ${JSON.stringify(zod.ok ? gen : zod)}\n${JSON.stringify(input())}`);
  if (zod.ok && gen.ok) {
    expect(gen.config).toEqual(zod.config);
    expect(JSON.stringify(gen.config).length).toBe(JSON.stringify(zod.config).length);
    return;
  }
  if (zod.ok || gen.ok) return;
  expect(where(gen.issues), JSON.stringify(input())).toEqual(where(zod.issues));
  // zod also runs a length check on a value of the wrong type (a string where a list must be non-empty): that second reason is not repeated
  const wrongType = new Set(zod.issues.filter((i) => i.reason.startsWith('Invalid input')).map((i) => i.path));
  for (const z of zod.issues) if (!DEFAULT_REASON.test(z.reason) && !wrongType.has(z.path)) expect(gen.issues, `${z.path}: ${z.reason}`).toContainEqual(z);
}

describe('generated snapshot validator ≡ zod', () => {
  let bases: MeshConfig[] = [];
  beforeAll(async () => {
    bases = [kitchenSink(), ...(await exampleConfigs())];
  });

  it('accepts every corpus config unchanged', () => {
    expect(bases.length).toBeGreaterThan(3);
    for (const b of bases) {
      expect(validateMeshConfig(JSON.parse(JSON.stringify(b))).ok, b.version).toBe(true);
      expectSame(() => JSON.parse(JSON.stringify(b)));
    }
  });

  it('same verdict, output and issue paths for mutated configs', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), (b, ms) => {
        const base = bases[b % bases.length]!;
        expectSame(() => mutate(base, ms));
      }),
      { numRuns: Number(process.env['MESHLET_EQUIVALENCE_RUNS'] ?? 4000) },
    );
  });

  it('same for endpoint lists (endpoint-only updates)', () => {
    const zodEndpoints = z.array(EndpointSchema);
    const base = kitchenSink().clusters[0]!.endpoints;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 0, maxLength: 3 }), (ms) => {
        const input = (): unknown => mutate(base as unknown as MeshConfig, ms);
        const zr = zodEndpoints.safeParse(input());
        const gr = validateEndpoints('c', input(), 'at');
        expect(gr.ok).toBe(zr.success);
        if (zr.success && gr.ok) expect(gr.endpoints).toEqual(zr.data);
        if (!zr.success && !gr.ok) expect([...new Set(gr.issues.map((i) => i.path))].sort()).toEqual([...new Set(zr.error.issues.map((i) => formatIssuePath(['at', ...i.path]).replace(/^at(?=\[)/, 'at')))].sort());
      }),
      { numRuns: 1500 },
    );
  });
});
