// The inbound path: traffic redirected to the sidecar's inbound port goes to
// the local app on 127.0.0.1:appPort. Same pipeline as outbound, with a fixed
// route (no fault, mirror or retry: those are the caller's sidecar's business),
// observed with reporter=destination.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clusterName, type ClusterModel, type RouteModel } from '../config/model/index.js';
import { WeightedSplit } from '../layers/balance/index.js';
import { compileRetry } from '../layers/retry/index.js';
import type { CompiledDestination, CompiledRoute } from '../snapshot/index.js';
import { ClusterRuntime } from '../upstream/cluster.js';
import { createPipeline, type PipelineDeps } from './outbound.js';

export interface InboundOptions {
  readonly appPort: number;
  readonly appAddress: string;
  /** The local workload's service host, for metrics (`reviews.default.svc.cluster.local`). */
  readonly serviceHost: string;
  readonly labels: Readonly<Record<string, string>>;
}

export function createInboundPipeline(deps: PipelineDeps, opts: InboundOptions): {
  handler: (req: IncomingMessage, res: ServerResponse) => void;
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
    rewriteUri: undefined,
    rewriteAuthority: undefined,
    timeoutMs: 0,
    retry: compileRetry(routeModel.retries),
    fault: null,
    mirror: null,
  };
  return { handler: createPipeline('inbound', deps, () => route), cluster };
}
