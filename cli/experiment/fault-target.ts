// Puts an experiment's fault in place and takes it away again. The fault is
// an overlay VirtualService (annotated meshlet.io/experiment) that always
// carries an expiry, so it ends by itself even when the runner is killed:
//  - control plane: ApplyExperiment over gRPC with a TTL the control plane
//    stamps with its own clock; RemoveExperiment to revert.
//  - config directory: a file `meshlet-experiment-<name>.yaml` with an
//    absolute expiry, watched by a standalone sidecar or a control plane;
//    deleted to revert (a stale one left by a killed run is inert and is
//    replaced by the next run).
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { applyExperiment, fetchStatus, removeExperiment, syncState } from '../../control-plane/index.js';
import type { AdminCallOptions } from '../../control-plane/server/index.js';
import {
  ANNOTATION_EXPERIMENT,
  ANNOTATION_EXPERIMENT_EXPIRES_AT,
  ANNOTATION_FAULT_LABELS,
  ANNOTATION_FAULT_PLACEMENT,
  ANNOTATION_FAULT_SUBSET,
} from '../../proxy/config/index.js';
import { placementOf, type Experiment } from './experiment-schema.js';
import { retryTransient } from './retry-transient.js';

export interface FaultChange {
  /** Config version/generation after the change, when the target can tell. */
  readonly version: string;
  readonly at: number;
}

export interface FaultTarget {
  readonly describe: string;
  /** Puts the overlay in place: the policy (if any), plus the fault when `withFault`. */
  apply(ttlMs: number, withFault: boolean): Promise<FaultChange>;
  /** Removes the overlay altogether. */
  revert(): Promise<FaultChange>;
}

/** The overlay VirtualService for an experiment (expiry stamped by the caller). */
export function overlayResource(e: Experiment, withFault: boolean, expiresAt?: number): Record<string, unknown> {
  const t = e.spec.target;
  const annotations: Record<string, string> = {
    [ANNOTATION_EXPERIMENT]: e.metadata.name,
    [ANNOTATION_FAULT_PLACEMENT]: placementOf(e),
  };
  if (t.subset !== undefined) annotations[ANNOTATION_FAULT_SUBSET] = t.subset;
  if (t.labels !== undefined) annotations[ANNOTATION_FAULT_LABELS] = Object.entries(t.labels).map(([k, v]) => `${k}=${v}`).join(',');
  if (expiresAt !== undefined) annotations[ANNOTATION_EXPERIMENT_EXPIRES_AT] = new Date(expiresAt).toISOString();
  const f = e.spec.fault;
  const fault: Record<string, unknown> = {};
  if (f.delay) fault['delay'] = { fixedDelay: f.delay.fixedDelay, percentage: { value: f.delay.percentage } };
  if (f.abort) fault['abort'] = { httpStatus: f.abort.httpStatus, percentage: { value: f.abort.percentage } };
  const p = e.spec.policy;
  const http: Record<string, unknown> = {
    ...(t.match ? { match: t.match } : {}),
    // A network-only fault has no HTTP part: the overlay then carries just the policy.
    ...(withFault && Object.keys(fault).length > 0 ? { fault } : {}),
    ...(p?.retries ? { retries: p.retries } : {}),
    ...(p?.timeout ? { timeout: p.timeout } : {}),
    // The route is required by the VirtualService schema; an overlay ignores it.
    route: [{ destination: { host: t.host } }],
  };
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: `experiment-${e.metadata.name}`, annotations },
    spec: { hosts: [t.host], http: [http] },
  };
}

/**
 * The overlay DestinationRule carrying the policy's DestinationRule-level
 * settings (connectionPool, outlierDetection, retryBudget), or undefined when
 * the policy has none. Same experiment annotation and expiry as the
 * VirtualService overlay, which it always accompanies.
 */
export function ruleOverlayResource(e: Experiment, expiresAt?: number): Record<string, unknown> | undefined {
  const p = e.spec.policy;
  if (p?.trafficPolicy === undefined && p?.subsets === undefined) return undefined;
  const annotations: Record<string, string> = { [ANNOTATION_EXPERIMENT]: e.metadata.name };
  if (expiresAt !== undefined) annotations[ANNOTATION_EXPERIMENT_EXPIRES_AT] = new Date(expiresAt).toISOString();
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: `experiment-${e.metadata.name}`, annotations },
    spec: { host: e.spec.target.host, ...(p.trafficPolicy ? { trafficPolicy: p.trafficPolicy } : {}), ...(p.subsets ? { subsets: p.subsets } : {}) },
  };
}

/** The overlay as YAML: the VirtualService, then the DestinationRule when there is one. */
export function overlayYaml(e: Experiment, withFault: boolean, expiresAt?: number): string {
  const rule = ruleOverlayResource(e, expiresAt);
  return [overlayResource(e, withFault, expiresAt), ...(rule ? [rule] : [])].map((r) => stringify(r)).join('---\n');
}

/**
 * Waits (bounded) until every connected sidecar has ACKed the control plane's
 * current config, so a phase starts when the change is really in place.
 */
async function synced(address: string, generation: number, call: AdminCallOptions, boundMs = 5000): Promise<string> {
  const end = Date.now() + boundMs;
  for (;;) {
    const st = await retryTransient(() => fetchStatus(address, call));
    const nodes = st.nodes.map((n) => ({ ...n, pushError: n.pushError ?? '' }));
    const ok = nodes.filter((n) => syncState(n) === 'SYNCED').length;
    if ((st.generation >= generation && ok === nodes.length) || Date.now() > end) {
      return `generation ${st.generation}, ACKed by ${ok}/${nodes.length} sidecars${ok < nodes.length ? ` (not all within ${boundMs} ms)` : ''}`;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function controlPlaneTarget(e: Experiment, address: string, call: AdminCallOptions = {}): FaultTarget {
  const name = e.metadata.name;
  return {
    describe: `control plane ${address}`,
    async apply(ttlMs, withFault) {
      const r = await retryTransient(() => applyExperiment(address, { name, virtualServiceYaml: overlayYaml(e, withFault), ttlMs }, call));
      return { version: await synced(address, r.generation, call), at: Date.now() };
    },
    async revert() {
      const r = await retryTransient(() => removeExperiment(address, name, call));
      return { version: await synced(address, r.generation, call), at: Date.now() };
    },
  };
}

/** Generation of the control plane now (for the report's version before the fault). */
export async function controlPlaneGeneration(address: string, call: AdminCallOptions = {}): Promise<string> {
  return String((await retryTransient(() => fetchStatus(address, call))).generation);
}

export function configDirTarget(e: Experiment, dir: string): FaultTarget {
  const file = join(dir, `meshlet-experiment-${e.metadata.name}.yaml`);
  return {
    describe: `config directory ${dir}`,
    async apply(ttlMs, withFault) {
      const at = Date.now();
      // Written whole to a temporary name and renamed: a watcher never reads half a file.
      await writeFile(`${file}.tmp`, `# Written by \`meshlet experiment run\`; removed when it ends, inert after the expiry.\n${overlayYaml(e, withFault, at + ttlMs)}`);
      await rename(`${file}.tmp`, file);
      return { version: `file ${file} written`, at };
    },
    async revert() {
      await rm(file, { force: true });
      return { version: `file ${file} removed`, at: Date.now() };
    },
  };
}
