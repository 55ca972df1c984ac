// The inbound path: traffic redirected to the sidecar's inbound port goes to
// the local app on 127.0.0.1:appPort. Same pipeline as outbound, with a fixed
// route (no mirror or retry: those are the caller's sidecar's business),
// observed with reporter=destination. The one exception is a fault placed on
// the server side (`placement: server`, from `meshlet experiment`): the route
// of our own service that the request matches carries it, and it is applied
// here, so the caller's retries and outlier detection see a real failure.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { clusterName, type ClusterModel, type RouteModel } from '../config/model/index.js';
import { WeightedSplit } from '../layers/balance/index.js';
import { compileFault } from '../layers/fault/index.js';
import { compileRetry } from '../layers/retry/index.js';
import { WEBSOCKET_ONLY, type CompiledDestination, type CompiledRoute, type CompiledVirtualHost, type Snapshot } from '../snapshot/index.js';
import { ClusterRuntime } from '../upstream/cluster.js';
import { createPipeline, createUpgradeHandler, type PipelineDeps, type RouteResolver } from './outbound.js';

export interface InboundOptions {
  readonly appPort: number;
  readonly appAddress: string;
  /** The local workload's service host, for metrics (`reviews.default.svc.cluster.local`). */
  readonly serviceHost: string;
  readonly labels: Readonly<Record<string, string>>;
}

export function createInboundPipeline(deps: PipelineDeps, opts: InboundOptions): {
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  cluster: ClusterRuntime;
} {
  const model: ClusterModel = {
    name: clusterName(opts.serviceHost, opts.appPort).replace(/^outbound/, 'inbound'),
    host: opts.serviceHost,
    port: opts.appPort,
    discovery: 'static',
    endpoints: [{ address: opts.appAddress, port: opts.appPort, labels: opts.labels, weight: 1 }],
    policy: { lb: { kind: 'round_robin' } },
    // Istio's inbound default for an undeclared port: speak to the app what the caller spoke.
    protocol: 'downstream',
  };
  const cluster = new ClusterRuntime(model);
  const routeModel: RouteModel = {
    name: 'inbound',
    match: [],
    action: { kind: 'forward', destinations: [{ host: opts.serviceHost, port: opts.appPort, weight: 100 }] },
    // The app may be restarting: retry only what provably never reached it.
    retries: { attempts: 1, retryOn: ['connect-failure'], retriableStatusCodes: [], idempotentOnly5xx: false, isDefault: true },
  };
  const dest: CompiledDestination = { cluster, byPort: undefined, host: opts.serviceHost, requestHeaders: undefined, responseHeaders: undefined };
  const route: CompiledRoute = {
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
  // Server-placed faults, recomputed once per snapshot: per route index of our
  // service's virtual host, the inbound route carrying that route's fault.
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
    if (s.snapshot !== seen) refresh(s.snapshot);
    if (vh === undefined) return route;
    const i = vh.table.match(s);
    return (i >= 0 ? faulted[i] : undefined) ?? route;
  };
  return { handler: createPipeline('inbound', deps, resolve), upgrade: createUpgradeHandler('inbound', deps, resolve), cluster };
}
