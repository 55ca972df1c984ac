// DestinationRule trafficPolicy → the model's ClusterPolicy, per cluster
// (host × port × subset), merged as Istio's pilot merges them
// (util.MergeSubsetTrafficPolicy): a `portLevelSettings` entry for the
// cluster's port replaces the policy it belongs to wholesale (its omitted
// groups fall back to defaults, not to the level above); a subset's policy
// then overrides the destination's group by group (loadBalancer,
// connectionPool, outlierDetection each replaced whole), or wholesale when
// the subset has a port-level entry for this port. `retryBudget` (no
// port-level form) comes from the top level unless a port-level entry
// replaced it, and a subset's own budget wins. What else a trafficPolicy
// may hold is listed in istio/field-support.ts.

import type {
  ClusterPolicy,
  ConnectionPoolPolicy,
  HashKey,
  LoadBalancerPolicy,
  OutlierDetectionPolicy,
  RetryBudgetPolicy,
} from '../model/index.js';
import { DEFAULT_LB } from '../model/index.js';
import {
  parseDuration,
  type IstioConnectionPool,
  type IstioLoadBalancer,
  type IstioOutlierDetection,
  type IstioRetryBudget,
  type IstioTrafficPolicy,
} from '../istio/index.js';

const DEFAULT_RING_SIZE = 1024;
const DEFAULT_MAGLEV_TABLE = 65537;

type PolicyGroups = Pick<IstioTrafficPolicy, 'loadBalancer' | 'connectionPool' | 'outlierDetection' | 'retryBudget'>;

/** The policy for one port: its port-level entry when there is one (replacing, not inheriting). */
function forPort(tp: IstioTrafficPolicy | undefined, port: number): { policy: PolicyGroups | undefined; portLevel: boolean } {
  const entry = tp?.portLevelSettings?.find((p) => p.port.number === port);
  if (entry === undefined) return { policy: tp, portLevel: false };
  return { policy: { loadBalancer: entry.loadBalancer, connectionPool: entry.connectionPool, outlierDetection: entry.outlierDetection }, portLevel: true };
}

/** The effective policy of the cluster for `port` (and `subset`'s policy, when a subset cluster). */
export function mergeTrafficPolicy(top: IstioTrafficPolicy | undefined, subset: IstioTrafficPolicy | undefined, port: number): PolicyGroups | undefined {
  const original = forPort(top, port).policy;
  if (subset === undefined) return original;
  const sub = forPort(subset, port);
  if (original === undefined) return sub.policy;
  const s = sub.policy;
  return {
    loadBalancer: s?.loadBalancer !== undefined || sub.portLevel ? s?.loadBalancer : original.loadBalancer,
    connectionPool: s?.connectionPool !== undefined || sub.portLevel ? s?.connectionPool : original.connectionPool,
    outlierDetection: s?.outlierDetection !== undefined || sub.portLevel ? s?.outlierDetection : original.outlierDetection,
    retryBudget: s?.retryBudget ?? original.retryBudget,
  };
}

export function toClusterPolicy(tp: PolicyGroups | undefined): ClusterPolicy {
  const connectionPool = tp?.connectionPool ? toConnectionPool(tp.connectionPool) : undefined;
  const outlierDetection = tp?.outlierDetection ? toOutlierDetection(tp.outlierDetection) : undefined;
  const retryBudget = tp?.retryBudget ? toRetryBudget(tp.retryBudget) : undefined;
  return {
    lb: toLoadBalancer(tp?.loadBalancer),
    ...(connectionPool ? { connectionPool } : {}),
    ...(outlierDetection ? { outlierDetection } : {}),
    ...(retryBudget ? { retryBudget } : {}),
  };
}

/** Istio's defaults for omitted fields (pilot's applyRetryBudget): 20%, 3; a zero minimum means the default. */
function toRetryBudget(rb: IstioRetryBudget): RetryBudgetPolicy {
  return { percent: rb.percent ?? 20, minRetryConcurrency: rb.minRetryConcurrency !== undefined && rb.minRetryConcurrency > 0 ? rb.minRetryConcurrency : 3 };
}

export function toLoadBalancer(lb: IstioLoadBalancer | undefined): LoadBalancerPolicy {
  if (lb?.consistentHash) {
    const ch = lb.consistentHash;
    const hashKey = toHashKey(ch);
    if (ch.maglev) return { kind: 'maglev', hashKey, tableSize: ch.maglev.tableSize ?? DEFAULT_MAGLEV_TABLE };
    return { kind: 'ring_hash', hashKey, tableSize: ch.ringHash?.minimumRingSize ?? ch.minimumRingSize ?? DEFAULT_RING_SIZE };
  }
  switch (lb?.simple) {
    case 'ROUND_ROBIN':
      return { kind: 'round_robin' };
    case 'RANDOM':
      return { kind: 'random' };
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      return { kind: 'least_request' };
    default:
      // UNSPECIFIED or absent: Istio's default is LEAST_REQUEST. (PASSTHROUGH
      // never gets here: the schema refuses it.)
      return DEFAULT_LB;
  }
}

function toHashKey(ch: NonNullable<IstioLoadBalancer['consistentHash']>): HashKey {
  if (ch.httpHeaderName !== undefined) return { kind: 'header', name: ch.httpHeaderName.toLowerCase() };
  if (ch.httpCookie !== undefined) {
    const ttlMs = ch.httpCookie.ttl !== undefined ? parseDuration(ch.httpCookie.ttl) : undefined;
    return {
      kind: 'cookie',
      name: ch.httpCookie.name,
      ...(ch.httpCookie.path !== undefined ? { path: ch.httpCookie.path } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
    };
  }
  if (ch.httpQueryParameterName !== undefined) return { kind: 'query', name: ch.httpQueryParameterName };
  // The schema guarantees exactly one key, so what remains is useSourceIp.
  return { kind: 'source_ip' };
}

function toConnectionPool(cp: IstioConnectionPool): ConnectionPoolPolicy | undefined {
  const out: { -readonly [K in keyof ConnectionPoolPolicy]: ConnectionPoolPolicy[K] } = {};
  if (cp.tcp?.maxConnections !== undefined) out.maxConnections = cp.tcp.maxConnections;
  if (cp.tcp?.connectTimeout !== undefined) out.connectTimeoutMs = parseDuration(cp.tcp.connectTimeout);
  if (cp.http?.http1MaxPendingRequests !== undefined) out.maxPendingRequests = cp.http.http1MaxPendingRequests;
  if (cp.http?.http2MaxRequests !== undefined) out.maxRequests = cp.http.http2MaxRequests;
  if (cp.http?.maxRequestsPerConnection !== undefined) out.maxRequestsPerConnection = cp.http.maxRequestsPerConnection;
  if (cp.http?.maxRetries !== undefined) out.maxRetries = cp.http.maxRetries;
  if (cp.http?.idleTimeout !== undefined) out.idleTimeoutMs = parseDuration(cp.http.idleTimeout);
  if (cp.http?.maxConcurrentStreams !== undefined) out.maxConcurrentStreams = cp.http.maxConcurrentStreams;
  return Object.keys(out).length > 0 ? out : undefined;
}

function toOutlierDetection(od: IstioOutlierDetection): OutlierDetectionPolicy {
  return {
    // `consecutiveErrors` is the deprecated spelling; the new field wins when both are set.
    consecutive5xxErrors: od.consecutive5xxErrors ?? od.consecutiveErrors ?? 5,
    consecutiveGatewayErrors: od.consecutiveGatewayErrors ?? 0,
    intervalMs: duration(od.interval, 10_000),
    baseEjectionTimeMs: duration(od.baseEjectionTime, 30_000),
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
    minHealthPercent: od.minHealthPercent ?? 0,
  };
}

function duration(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : (parseDuration(text) ?? fallback);
}
