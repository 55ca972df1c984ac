// The inbound path: traffic redirected to the sidecar's inbound port goes to
// the local app on 127.0.0.1:<the port the caller dialled> (Istio's
// behaviour; --app-port only when the connection carries no original
// destination, as in standalone mode). Same pipeline as outbound, with a fixed
// route (no mirror or retry: those are the caller's sidecar's business),
// observed with reporter=destination. The one exception is a fault placed on
// the server side (`placement: server`, from `meshlet experiment`): the route
// of our own service that the request matches carries it, and it is applied
// here, so the caller's retries and outlier detection see a real failure.
// Before all of it: the AuthorizationPolicies that select this workload
// (authorize-inbound.ts; 403 `RBAC: access denied`, flag RBAC).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { clusterName, type ClusterModel, type RouteModel } from '../config/model/index.js';
import { WeightedSplit } from '../layers/balance/index.js';
import { compileFault } from '../layers/fault/index.js';
import { compileRetry } from '../layers/retry/index.js';
import { WEBSOCKET_ONLY, type CompiledDestination, type CompiledRoute, type CompiledVirtualHost, type Snapshot } from '../snapshot/index.js';
import { errors } from '../errors/index.js';
import { connectionInfoOf } from '../listener/connection-dispatch.js';
import { ClusterRuntime } from '../upstream/cluster.js';
import { authorizeRequest } from './authorize-inbound.js';
import { createPipeline, createUpgradeHandler, type PipelineDeps, type RouteResolver } from './outbound.js';

/** Distinct local ports served inbound; a port scan must not create clusters without end. */
const MAX_INBOUND_PORTS = 256;

export interface InboundOptions {
  readonly appPort: number;
  readonly appAddress: string;
  /** The local workload's service host, for metrics (`reviews.default.svc.cluster.local`). */
  readonly serviceHost: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface InboundPipeline {
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** The --app-port cluster (admin /clusters shows it). */
  readonly cluster: ClusterRuntime;
  close(): void;
}

export function createInboundPipeline(deps: PipelineDeps, opts: InboundOptions): InboundPipeline {
  const byPort = new Map<number, CompiledRoute>();
  const clusters: ClusterRuntime[] = [];
  const routeFor = (port: number): CompiledRoute => {
    let r = byPort.get(port);
    if (r === undefined) {
      const c = inboundCluster(opts, port);
      clusters.push(c);
      r = inboundRoute(opts.serviceHost, port, c);
      byPort.set(port, r);
    }
    return r;
  };
  const route = routeFor(opts.appPort);
  const cluster = clusters[0]!;
  // Server-placed faults, recomputed once per snapshot: per route index of our
  // service's virtual host, the inbound route carrying that route's fault.
  // They apply to the --app-port (the service's HTTP port) only.
  let seen: Snapshot | undefined;
  let vh: CompiledVirtualHost | undefined;
  let faulted: readonly (CompiledRoute | undefined)[] = [];
  const refresh = (snap: Snapshot | undefined): void => {
    seen = snap;
    vh = snap?.hosts.lookup(opts.serviceHost);
    faulted = (vh?.routes ?? []).map((r) => {
      const f = r.model.fault;
      if (f?.placement !== 'server' || (f.expiresAt !== undefined && f.expiresAt <= Date.now())) return undefined;
      for (const [k, v] of Object.entries(f.serverLabels ?? {})) if (opts.labels[k] !== v) return undefined;
      return { ...route, name: r.name, fault: compileFault(f, r.name) };
    });
    if (!faulted.some((r) => r !== undefined)) vh = undefined;
  };
  const resolve: RouteResolver = (s) => {
    // AuthorizationPolicy first, as Envoy's RBAC filter runs before the router and any fault.
    const authz = s.snapshot?.authz;
    if (authz !== null && authz !== undefined) {
      const denied = authorizeRequest(authz, s, opts.appPort, deps.events);
      if (denied !== undefined) return denied;
    }
    const conn = connectionInfoOf(s.req.socket);
    if (conn !== undefined && conn.redirected && conn.dstPort !== opts.appPort) {
      if (!byPort.has(conn.dstPort) && byPort.size >= MAX_INBOUND_PORTS) return errors.noHealthyUpstream(`inbound port ${conn.dstPort}`);
      return routeFor(conn.dstPort);
    }
    if (s.snapshot !== seen) refresh(s.snapshot);
    if (vh === undefined) return route;
    const i = vh.table.match(s);
    return (i >= 0 ? faulted[i] : undefined) ?? route;
  };
  return {
    handler: createPipeline('inbound', deps, resolve),
    upgrade: createUpgradeHandler('inbound', deps, resolve),
    cluster,
    close: () => {
      for (const c of clusters) c.close();
    },
  };
}

function inboundCluster(opts: InboundOptions, port: number): ClusterRuntime {
  const model: ClusterModel = {
    name: clusterName(opts.serviceHost, port).replace(/^outbound/, 'inbound'),
    host: opts.serviceHost,
    port,
    discovery: 'static',
    endpoints: [{ address: opts.appAddress, port, labels: opts.labels, weight: 1 }],
    policy: { lb: { kind: 'round_robin' } },
    // Istio's inbound default for an undeclared port: speak to the app what the caller spoke.
    protocol: 'downstream',
  };
  return new ClusterRuntime(model);
}

function inboundRoute(serviceHost: string, port: number, cluster: ClusterRuntime): CompiledRoute {
  const routeModel: RouteModel = {
    name: 'inbound',
    match: [],
    action: { kind: 'forward', destinations: [{ host: serviceHost, port, weight: 100 }] },
    // The app may be restarting: retry only what provably never reached it.
    retries: { attempts: 1, retryOn: ['connect-failure'], retriableStatusCodes: [], idempotentOnly5xx: false, isDefault: true },
  };
  const dest: CompiledDestination = { cluster, byPort: undefined, host: serviceHost, requestHeaders: undefined, responseHeaders: undefined };
  return {
    name: 'inbound',
    model: routeModel,
    kind: 'forward',
    split: new WeightedSplit([{ item: dest, weight: 100 }]),
    requestHeaders: undefined,
    responseHeaders: undefined,
    pathRewrite: null,
    rewriteAuthority: undefined,
    timeoutMs: 0,
    retry: compileRetry(routeModel.retries),
    fault: null,
    mirror: null,
    upgrades: WEBSOCKET_ONLY,
  };
}
