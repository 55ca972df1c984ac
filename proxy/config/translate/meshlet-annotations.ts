// Meshlet extensions ride in VirtualService metadata.annotations, the way
// Istio itself is extended, so the spec stays valid for a real Istio.

import type { ConfigIssue } from '../model/index.js';
import { parseDuration, type IstioVirtualService } from '../istio/index.js';
import { issueFor } from './issue-for.js';

export const ANNOTATION_MIRROR_HOST_SUFFIX = 'meshlet.io/mirror-host-suffix';
export const ANNOTATION_FAULT_HEADER_CONTROL = 'meshlet.io/fault-header-control';
export const ANNOTATION_MAX_ACTIVE_FAULTS = 'meshlet.io/max-active-faults';
export const ANNOTATION_EXPERIMENT_TTL = 'meshlet.io/experiment-ttl';
export const ANNOTATION_UPGRADE_TYPES = 'meshlet.io/upgrade-types';

export interface MeshletAnnotations {
  /** Append `-shadow` to a mirrored request's Host (default true, as Envoy). */
  readonly shadowSuffix: boolean;
  readonly faultHeaderControl: boolean;
  readonly maxActiveFaults?: number;
  /** Absolute expiry for fault and mirror rules: load time + TTL. */
  readonly expiresAt?: number;
  /** Upgrade protocols this VirtualService's routes accept (default: websocket only). */
  readonly upgrades?: readonly string[];
}

function path(key: string): string {
  return `metadata.annotations[${JSON.stringify(key)}]`;
}

function bool(vs: IstioVirtualService, key: string, fallback: boolean, issues: ConfigIssue[]): boolean {
  const v = vs.metadata.annotations[key];
  if (v === undefined) return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  issues.push(issueFor(vs, path(key), `must be "true" or "false", got "${v}"`));
  return fallback;
}

export function readAnnotations(vs: IstioVirtualService, now: number, issues: ConfigIssue[]): MeshletAnnotations {
  const shadowSuffix = bool(vs, ANNOTATION_MIRROR_HOST_SUFFIX, true, issues);
  const faultHeaderControl = bool(vs, ANNOTATION_FAULT_HEADER_CONTROL, false, issues);
  let maxActiveFaults: number | undefined;
  const maf = vs.metadata.annotations[ANNOTATION_MAX_ACTIVE_FAULTS];
  if (maf !== undefined) {
    if (/^\d+$/.test(maf)) maxActiveFaults = Number(maf);
    else issues.push(issueFor(vs, path(ANNOTATION_MAX_ACTIVE_FAULTS), `must be a non-negative integer, got "${maf}"`));
  }
  let expiresAt: number | undefined;
  const ttl = vs.metadata.annotations[ANNOTATION_EXPERIMENT_TTL];
  if (ttl !== undefined) {
    const ms = parseDuration(ttl);
    if (ms !== undefined && ms > 0) expiresAt = now + ms;
    else issues.push(issueFor(vs, path(ANNOTATION_EXPERIMENT_TTL), `must be a positive duration such as "10m", got "${ttl}"`));
  }
  let upgrades: string[] | undefined;
  const ut = vs.metadata.annotations[ANNOTATION_UPGRADE_TYPES];
  if (ut !== undefined) {
    upgrades = ut.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
    if (upgrades.includes('h2c')) issues.push(issueFor(vs, path(ANNOTATION_UPGRADE_TYPES), 'h2c cannot be tunnelled: HTTP/2 upgrades are not supported'));
  }
  return {
    shadowSuffix,
    ...(upgrades !== undefined ? { upgrades } : {}),
    faultHeaderControl,
    ...(maxActiveFaults !== undefined ? { maxActiveFaults } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}
