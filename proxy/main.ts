// Composition root of the sidecar: builds the long-lived parts once (upstream
// registry, outlier detector, observers, listeners) and wires a config source
// (files in standalone mode, or the control plane's stream) to applyConfig,
// which compiles a new snapshot to one side and swaps one reference.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { ConfigIssue, MeshConfig, OutboundTrafficPolicy } from './config/model/index.js';
import { formatIssue } from './config/model/index.js';
import { announceWorkerAdmin, startAdmin } from './admin/index.js';
import { ConnectionBudget, destroyForeignConnections, Drain, explainBindError, startListener, type DrainOutcome, type ListenerOptions } from './listener/index.js';
import { createConnectionDispatcher, type ConnectionInfo } from './listener/connection-dispatch.js';
import { createObservers, type MeshMetrics, type Observers } from './observe/index.js';
import {
  createInboundPipeline,
  createPipeline,
  createUpgradeHandler,
  inboundHandlers,
  outboundHandlers,
  PassthroughRoutes,
  routeFromSnapshot,
  withOutboundPolicy,
  type InboundPipeline,
  type PipelineDeps,
  type RouterDeps,
} from './pipeline/index.js';
import { compileSnapshot, SnapshotHolder } from './snapshot/index.js';
import { OutlierDetector } from './upstream/outlier.js';
import { UpstreamRegistry } from './upstream/registry.js';
import type { ClusterRuntime, EndpointRetirement } from './upstream/cluster.js';
import { setMirrorConcurrency } from './layers/mirror/index.js';
import { setStreamIdleTimeout } from './upstream/endpoint.js';
import { setH2Limits, type H2Limits } from './upstream/h2-limits.js';
import type { Logger } from './logger.js';
import { MeshTls, TlsCounters, type IdentitySource } from './identity/mesh-tls.js';
import { inboundMtls, type InboundMtlsGate } from './pipeline/inbound-mtls.js';

export type { IdentitySource } from './identity/mesh-tls.js';

export interface ProxyOptions {
  readonly nodeId: string;
  /**
   * No --node-id under an authenticated control plane: the node id is the one
   * the workload credential allows (named by the CA's answer), not `nodeId`.
   */
  readonly nodeIdFromCredential?: boolean;
  readonly namespace: string;
  readonly workload: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Bind address of the outbound listener (loopback by default in standalone mode). */
  readonly listenAddress: string;
  /** Bind address of the inbound and metrics listeners (reached from other pods). */
  readonly inboundAddress: string;
  readonly metricsAddress: string;
  readonly outboundPort: number;
  readonly inboundPort: number;
  /** Local app port for the inbound listener; 0 = no inbound listener. */
  readonly appPort: number;
  readonly appAddress: string;
  readonly adminPort: number;
  readonly adminAddress: string;
  /** -1 disables the metrics listener; 0 picks a free port (tests). */
  readonly metricsPort: number;
  readonly accessLog: string;
  readonly traceSampleRate: number;
  readonly traceExportEndpoint: string | undefined;
  readonly traceInject: { readonly multi: boolean; readonly single: boolean; readonly w3c: boolean };
  readonly metrics: boolean;
  readonly maxHeaderBytes: number;
  /** More request headers than this → 431 (Envoy's max_headers_count, 100). */
  readonly maxHeadersCount: number;
  readonly bufferLimit: number;
  readonly idleTimeoutMs: number;
  /** The request head must arrive within this (Envoy's request_headers_timeout; 408). */
  readonly requestHeadersTimeoutMs: number;
  /** No bytes either way on a request for this long → 408 downstream / 504 SI upstream (Envoy's stream_idle_timeout). */
  readonly streamIdleTimeoutMs: number;
  /** Downstream connections across the data-plane listeners (Envoy's global_downstream_max_connections). */
  readonly maxConnections: number;
  readonly dnsRefreshMs: number;
  readonly mirrorConcurrency: number;
  /** Destinations outside the registry (a Sidecar resource in config overrides it). */
  readonly outboundTrafficPolicy: OutboundTrafficPolicy;
  /** No client bytes for this long → opaque TCP (server-first protocols). */
  readonly protocolDetectionTimeoutMs: number;
  /** Idle timeout of proxied TCP connections. */
  readonly tcpIdleTimeoutMs: number;
  /** HTTP/2 SETTINGS and windows for both listeners and upstream connections. */
  readonly h2: H2Limits;
  /**
   * A --concurrency worker: the primary owns the admin and metrics ports and
   * asks each worker; the worker's admin listens on a private loopback port
   * it announces over IPC, and it opens no metrics listener.
   */
  readonly worker?: boolean;
}

export interface RunningProxy {
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly adminPort: number;
  readonly metricsPort: number;
  readonly holder: SnapshotHolder;
  readonly budget: ConnectionBudget;
  /** Readiness 503, keep serving with `Connection: close`; resolves when idle or at the deadline. */
  drain(deadlineMs: number): Promise<DrainOutcome>;
  /** Validated config in, issues out (empty = applied). */
  applyConfig(config: MeshConfig): ConfigIssue[];
  /** Records a config that failed before reaching applyConfig (parse, validation, NACK): /config_dump, metric, log. */
  rejectConfig(version: string | undefined, issues: readonly ConfigIssue[]): void;
  /** Resolves once DNS clusters of the current config have a first answer. */
  dnsSettled(): Promise<void>;
  close(): Promise<void>;
}

/** Per-endpoint state kept outside upstream/ (breakers, metric series) ends with its endpoint or cluster. */
export function endpointRetirement(outlier: OutlierDetector, metrics: MeshMetrics): EndpointRetirement {
  return {
    endpointRemoved: (cluster, ep) => {
      outlier.forget(ep);
      metrics.forgetEndpoint(cluster.destination, ep);
    },
    clusterRemoved: (cluster) => metrics.forgetDestination(cluster.destination),
    outlierStateDropped: (_cluster, ep) => outlier.forget(ep),
    endpointReplaced: (cluster, old, next) => {
      outlier.forget(old);
      metrics.moveEndpoint(cluster.destination, old, next);
    },
  };
}

export async function startProxy(o: ProxyOptions, log: Logger, onQuit: () => void, identity?: IdentitySource): Promise<RunningProxy> {
  const holder = new SnapshotHolder();
  // Mesh mTLS both ways needs a workload certificate; without one (standalone, --insecure) it is off.
  const meshTls = identity !== undefined ? new MeshTls(identity) : undefined;
  const tlsCounters = meshTls?.counters ?? new TlsCounters();
  const registry = new UpstreamRegistry({ dnsRefreshMs: o.dnsRefreshMs, ...(meshTls !== undefined ? { meshTls } : {}) });
  setMirrorConcurrency(o.mirrorConcurrency);
  setStreamIdleTimeout(o.streamIdleTimeoutMs);
  setH2Limits(o.h2);
  const obs: Observers = await createObservers({
    workload: o.workload,
    namespace: o.namespace,
    labels: o.labels,
    accessLog: o.accessLog,
    metrics: o.metrics,
    tracing: { sampleRate: o.traceSampleRate, inject: o.traceInject, serviceName: o.workload, exportEndpoint: o.traceExportEndpoint },
    registry,
    version: () => holder.current?.version,
    ...(identity ? { certExpiry: () => identity.current()?.notAfter.getTime() } : {}),
    tls: () => tlsCounters,
    ...(identity ? { principal: () => identity.current()?.spiffeId } : {}),
  });
  const outlier = new OutlierDetector((cluster, ep, reason) => {
    obs.events.ejection(cluster.destination.service, ep.id, reason);
    log.warn({ cluster: cluster.name, endpoint: ep.id, reason }, 'endpoint ejected');
  });
  registry.setRetirement(endpointRetirement(outlier, obs.metrics));
  const deps: PipelineDeps = {
    snapshot: () => holder.current,
    observer: obs.observer,
    events: obs.events,
    outlier,
    rng: Math.random,
    bufferLimit: o.bufferLimit,
    ...(identity ? { selfIdentity: () => identity.current()?.spiffeId } : {}),
  };

  let dnsPending: Promise<void> = Promise.resolve();
  let expiryTimer: NodeJS.Timeout | undefined;
  /** The inbound listener's PeerAuthentication gate: re-applied to open connections after each swap. */
  const mtlsGates: InboundMtlsGate[] = [];
  const applyConfig = (config: MeshConfig): ConfigIssue[] => {
    try {
      const { prune, resolved } = registry.sync(config);
      const snap = compileSnapshot(config, registry, { namespace: o.namespace, labels: o.labels, now: Date.now() });
      holder.swap(snap);
      for (const g of mtlsGates) g.enforce();
      prune();
      dnsPending = resolved;
      obs.events.configApplied(snap.version);
      // Experiment TTLs: recompile when the earliest fault/mirror expires, so it stops by itself.
      if (expiryTimer !== undefined) clearTimeout(expiryTimer);
      if (Number.isFinite(snap.nextExpiry)) {
        expiryTimer = setTimeout(() => applyConfig(config), Math.max(0, snap.nextExpiry - Date.now()) + 5);
        expiryTimer.unref();
      }
      log.info({ version: snap.version, clusters: config.clusters.length, hosts: config.virtualHosts.length }, 'config applied');
      return [];
    } catch (err) {
      const issue: ConfigIssue = { resource: 'MeshConfig', path: '', reason: `cannot compile: ${(err as Error).message}` };
      rejectConfig(config.version, [issue]);
      return [issue];
    }
  };
  const rejectConfig = (version: string | undefined, issues: readonly ConfigIssue[]): void => {
    holder.lastRejection = { version, at: new Date().toISOString(), issues: issues.map(formatIssue) };
    obs.events.configRejected();
    log.error({ version, issues: issues.map(formatIssue) }, 'config rejected; keeping the last good config');
  };

  const passthrough = new PassthroughRoutes();
  const policy = (): OutboundTrafficPolicy => holder.current?.config.outboundTrafficPolicy ?? o.outboundTrafficPolicy;
  const outboundRoute = withOutboundPolicy(routeFromSnapshot, passthrough, policy);
  const outboundHandler = createPipeline('outbound', deps, outboundRoute);
  const routerDeps: RouterDeps = {
    snapshot: () => holder.current,
    policy,
    tcp: {
      observer: obs.tcp,
      outlier,
      events: obs.events,
      connectTimeoutMs: 10_000,
      idleTimeoutMs: o.tcpIdleTimeoutMs,
    },
    // HTTP/2 prior knowledge goes to the HTTP server, whose h2c layer (listener/h2c.ts) takes the preface.
    http2: undefined,
    onLoop: (conn: ConnectionInfo) => {
      obs.metrics.interceptionLoop();
      log.warn({ dst: `${conn.dstAddress}:${conn.dstPort}`, src: conn.srcAddress }, 'refused a connection to the proxy itself (redirect loop)');
    },
  };
  // Filled once every listener is bound: a redirected connection aimed at one of them is a loop.
  const ownPorts = new Set<number>();
  const localAddresses = new Set(['127.0.0.1', '::1', '0.0.0.0', '::']);
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) localAddresses.add(i.address);
  const dispatchOptions = {
    detectionTimeoutMs: o.protocolDetectionTimeoutMs,
    isOwnListener: (address: string, port: number): boolean => ownPorts.has(port) && localAddresses.has(address),
  };
  const servers: Server[] = [];
  const drain = new Drain();
  const budget = new ConnectionBudget(o.maxConnections, () => obs.events.connectionRefused());
  const onHandlerError = (err: unknown): void => log.error({ err: err instanceof Error ? err.stack : String(err) }, 'request handler threw; answered 500');
  const common: Omit<ListenerOptions, 'port' | 'portFlag' | 'direction' | 'onRequest' | 'onUpgrade'> = {
    host: o.listenAddress,
    maxHeaderBytes: o.maxHeaderBytes,
    maxHeadersCount: o.maxHeadersCount,
    idleTimeoutMs: o.idleTimeoutMs,
    requestHeadersTimeoutMs: o.requestHeadersTimeoutMs,
    streamIdleTimeoutMs: o.streamIdleTimeoutMs,
    budget,
    drain,
    onReject: (reason) => obs.events.downstreamRejected(reason),
    onHandlerError,
  };
  const closeAll = async (): Promise<void> => {
    if (expiryTimer !== undefined) clearTimeout(expiryTimer);
    for (const s of servers) {
      s.close();
      s.closeAllConnections();
      destroyForeignConnections(s);
    }
    outlier.close();
    registry.close();
    passthrough.close();
    inbound?.close();
    await obs.close();
  };
  let inbound: InboundPipeline | undefined;
  // All or nothing: a listener that cannot bind stops start-up and closes what did start.
  try {
    const outbound = await startListener({
      ...common,
      port: o.outboundPort,
      portFlag: '--outbound-port',
      direction: 'outbound',
      accept: (http) => createConnectionDispatcher(outboundHandlers(http, routerDeps), dispatchOptions),
      onRequest: outboundHandler,
      // Upgrades walk the same request path (route, fault, admit, forward) before a tunnel opens.
      onUpgrade: createUpgradeHandler('outbound', deps, outboundRoute),
    });
    servers.push(outbound);

    if (o.appPort > 0) {
      const pipeline = (inbound = createInboundPipeline(deps, {
        appPort: o.appPort,
        appAddress: o.appAddress,
        serviceHost: `${o.labels['app'] ?? o.workload}.${o.namespace}.svc.cluster.local`,
        labels: o.labels,
      }));
      const appTarget = { appAddress: o.appAddress, appPort: o.appPort, destination: pipeline.cluster.destination };
      servers.push(
        await startListener({
          ...common,
          host: o.inboundAddress,
          port: o.inboundPort,
          portFlag: '--inbound-port',
          direction: 'inbound',
          accept: (http) => {
            const mtls = inboundMtls({
              snapshot: () => holder.current,
              appPort: o.appPort,
              mesh: meshTls,
              counters: tlsCounters,
              onRefused: (conn, why) => log.warn({ src: `${conn.srcAddress}:${conn.srcPort}`, dstPort: conn.dstPort, why }, 'PeerAuthentication STRICT refused a connection'),
            });
            mtlsGates.push(mtls);
            return createConnectionDispatcher(inboundHandlers(http, routerDeps, appTarget, mtls), dispatchOptions);
          },
          onRequest: pipeline.handler,
          onUpgrade: pipeline.upgrade,
        }),
      );
    }

    const ready = (): boolean => holder.current !== undefined && !drain.draining;
    const admin = await startAdmin(o.worker === true ? 0 : o.adminPort, o.worker === true ? '127.0.0.1' : o.adminAddress, {
      holder,
      registry,
      outlier,
      inbound: inbound?.cluster,
      ready,
      draining: () => drain.draining,
      onHandlerError,
      tap: obs.tap,
      quit: onQuit,
      serverInfo: () => ({
        // The node id the sidecar subscribes as: the credential's, once the CA has named it.
        node_id: o.nodeIdFromCredential === true ? (identity?.current()?.nodeId ?? null) : o.nodeId,
        workload: o.workload,
        namespace: o.namespace,
        labels: o.labels,
        version: holder.current?.version ?? null,
      identity: identity?.current()?.spiffeId ?? null,
      cert_expires_at: identity?.current()?.notAfter.toISOString() ?? null,
        uptime_s: Math.round(process.uptime()),
        memory: process.memoryUsage(),
        node: process.version,
        pid: process.pid,
      }),
    }, o.worker === true);
    servers.push(admin);
    let metricsPort = 0;
    if (o.worker === true) {
      obs.shareMetricsWithPrimary();
      announceWorkerAdmin((admin.address() as AddressInfo).port);
      // The primary's ports are this sidecar's too: a request to them is a loop.
      ownPorts.add(o.adminPort);
      if (o.metricsPort > 0) ownPorts.add(o.metricsPort);
    } else if (o.metricsPort >= 0) {
      try {
        metricsPort = await obs.startMetricsServer(o.metricsPort, o.metricsAddress, ready);
      } catch (err) {
        throw explainBindError(err, o.metricsAddress, o.metricsPort, '--metrics-port');
      }
    }

    const portOf = (s: Server | undefined): number => (s?.address() as AddressInfo | null)?.port ?? 0;
    for (const s of servers) ownPorts.add(portOf(s));
    if (metricsPort > 0) ownPorts.add(metricsPort);
    return {
      outboundPort: portOf(outbound),
      inboundPort: o.appPort > 0 ? portOf(servers[1]) : 0,
      adminPort: portOf(admin),
      metricsPort,
      holder,
      budget,
      drain: (deadlineMs) => drain.drain(deadlineMs),
      rejectConfig,
      applyConfig,
      dnsSettled: () => dnsPending,
      close: async () => {
        drain.cutAll();
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
