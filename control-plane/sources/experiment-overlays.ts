// Experiment overlays pushed over gRPC (`meshlet experiment run
// --control-plane`): held in memory next to the file source, each with an
// absolute expiry stamped with the control plane's own clock. They join the
// files at every load, so an overlay is translated, validated and versioned
// exactly like a file; when one expires the config is reloaded, which drops
// it (new generation) and says so in the log.
import { loadIstioPath, parseIstioYaml, translate, type IstioResource } from '../../proxy/config/index.js';
import { ANNOTATION_EXPERIMENT, ANNOTATION_EXPERIMENT_EXPIRES_AT } from '../../proxy/config/index.js';
import type { ConfigIssue } from '../../proxy/config/model/index.js';
import type { ConfigLoader } from './istio-loader.js';

/** Longest overlay accepted: an experiment is not a config change. */
export const MAX_EXPERIMENT_TTL_MS = 3_600_000;

export class ExperimentOverlays {
  /** Per experiment: its VirtualService overlay, and its DestinationRule overlay when the policy has one. */
  readonly #byName = new Map<string, readonly IstioResource[]>();

  /** Parses and stamps an overlay; returns its expiry, or the issues that refuse it. */
  set(name: string, yaml: string, ttlMs: number, now = Date.now()): { ok: true; expiresAt: number } | { ok: false; issues: readonly ConfigIssue[] } {
    const where = `experiment ${name}`;
    const fail = (reason: string): { ok: false; issues: readonly ConfigIssue[] } => ({ ok: false, issues: [{ resource: where, path: '', reason }] });
    if (!(ttlMs > 0 && ttlMs <= MAX_EXPERIMENT_TTL_MS)) return fail(`ttl_ms must be in 1..${MAX_EXPERIMENT_TTL_MS}, got ${ttlMs}`);
    const parsed = parseIstioYaml(yaml, where);
    if (parsed.issues.length > 0) return { ok: false, issues: parsed.issues };
    const [vs, dr, ...rest] = parsed.resources;
    if (vs?.kind !== 'VirtualService' || (dr !== undefined && dr.kind !== 'DestinationRule') || rest.length > 0) {
      return fail('expected one VirtualService, optionally followed by one DestinationRule');
    }
    for (const r of [vs, dr]) {
      if (r !== undefined && r.metadata.annotations[ANNOTATION_EXPERIMENT] !== name) return fail(`${r.kind} metadata.annotations["${ANNOTATION_EXPERIMENT}"] must be "${name}"`);
    }
    const expiresAt = now + ttlMs;
    const stamp = <R extends IstioResource>(r: R): R => ({
      ...r,
      metadata: { ...r.metadata, annotations: { ...r.metadata.annotations, [ANNOTATION_EXPERIMENT_EXPIRES_AT]: new Date(expiresAt).toISOString() } },
    });
    this.#byName.set(name, dr !== undefined ? [stamp(vs), stamp(dr)] : [stamp(vs)]);
    return { ok: true, expiresAt };
  }

  delete(name: string): boolean {
    return this.#byName.delete(name);
  }

  /** Forgets overlays past their expiry (translation already ignores them). */
  prune(now = Date.now()): void {
    for (const [name, [vs]] of this.#byName) {
      const at = Date.parse(vs?.metadata.annotations[ANNOTATION_EXPERIMENT_EXPIRES_AT] ?? '');
      if (!(at > now)) this.#byName.delete(name);
    }
  }

  resources(): readonly IstioResource[] {
    return [...this.#byName.values()].flat();
  }

  /** The directory loader plus these overlays, translated together. */
  loader(): ConfigLoader {
    return async (dir) => {
      const loaded = await loadIstioPath(dir);
      const result = translate([...loaded.resources, ...this.resources()]);
      if (loaded.issues.length === 0) return result;
      return { ok: false, issues: [...loaded.issues, ...(result.ok ? [] : result.issues)] };
    };
  }
}
