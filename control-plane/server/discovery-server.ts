// The gRPC side of the control plane: one bidi stream per sidecar, pushes
// debounced after store changes, ACK/NACK bookkeeping, health, and the admin
// RPCs behind `meshlet status` / `meshlet config`.
import { markSidecarEndpoints, peerAddress, type KnownSidecar } from '../build/sidecar-endpoints.js';
import { randomBytes } from 'node:crypto';
import { Metadata, Server, ServerCredentials, status as GrpcStatus, type ServerOptions } from '@grpc/grpc-js';
import { loadDiscoveryProto, loadHealthProto } from '../../proto/load.js';
import type { MeshConfig } from '../../proxy/config/model/index.js';
import type { HealthHandlers } from '../../proto/gen/grpc/health/v1/Health.js';
import type { MeshDiscoveryHandlers } from '../../proto/gen/meshlet/v1/MeshDiscovery.js';
import type { ConfigError } from '../../proto/gen/meshlet/v1/ConfigError.js';
import type { SourceStatus } from '../../proto/gen/meshlet/v1/SourceStatus.js';
import type { NodeConfigResponse } from '../../proto/gen/meshlet/v1/NodeConfigResponse.js';
import { endpointDelta, type EndpointDelta, type NodeSnapshot, type SnapshotBuilder } from '../build/index.js';
import type { ControlPlaneMetrics } from '../metrics/index.js';
import type { ConfigStore } from '../store/index.js';
import type { NodeStatusView } from '../status/index.js';
import type { Authenticator, Credential } from '../auth/index.js';
import type { DiscoveryRequest__Output } from '../../proto/gen/meshlet/v1/DiscoveryRequest.js';
import { CallGuard, type Admission, type CallDenial } from './call-guard.js';
import { CertificateService, type CertificateIssuer } from './certificate-service.js';
import { NodeStream, type StreamCall } from './node-stream.js';
import { PushDebouncer } from './push-debouncer.js';
import { NodeAdmission, type NodeCheck } from './node-admission.js';
import { explainListenError, probePort } from './listen-error.js';

export interface DiscoveryServerOptions {
  readonly store: ConfigStore;
  readonly builder: SnapshotBuilder;
  readonly metrics: ControlPlaneMetrics;
  readonly debounceMs?: number;
  readonly debounceMaxMs?: number;
  /** Re-send interval for snapshots that carry a TTL (half the TTL). */
  readonly heartbeatMs?: number;
  /** Server keepalive pings (default 30 s / 10 s). */
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** Authentication + CA; undefined = --insecure (every caller trusted, no certificates). */
  readonly security?: { readonly authenticator: Authenticator; readonly issuer: CertificateIssuer };
  /** Largest config message sent (and request accepted); default 64 MiB. */
  readonly maxConfigBytes?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Freshness of sources that can go stale (Kubernetes), for `meshlet status`. */
  readonly sources?: () => readonly SourceStatus[];
  /** Checks a subscribing node's claimed identity (Kubernetes: against its Pod); absent = not checked. */
  readonly checkNode?: NodeCheck;
  /** Experiment overlays (ApplyExperiment / RemoveExperiment); absent = refused. */
  readonly experiments?: ExperimentControl;
}

export interface ExperimentControl {
  apply(name: string, yaml: string, ttlMs: number): Promise<{ ok: true; generation: number; expiresAt: number } | { ok: false; reason: string }>;
  remove(name: string): Promise<{ generation: number; removed: boolean }>;
}

/** Fault injection is powerful: only loopback callers or certificate-authenticated peers may do it. */
function mayExperiment(call: { getPeer(): string; getAuthContext(): { sslPeerCertificate?: unknown } }): boolean {
  if (call.getAuthContext().sslPeerCertificate !== undefined) return true;
  const peer = call.getPeer().replace(/^ipv[46]:/, '');
  return /^127\./.test(peer) || /^\[?::1\]?/.test(peer) || /^\[?::ffff:127\./.test(peer);
}

export const DEFAULT_MAX_CONFIG_BYTES = 64 * 1024 * 1024;

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When given, clients must present a certificate signed by it. */
  readonly clientCa?: Buffer;
}

export class DiscoveryServer {
  readonly controlPlaneId = `meshlet-cp-${randomBytes(4).toString('hex')}`;
  readonly #opts: DiscoveryServerOptions;
  readonly #grpc: Server;
  readonly #streams = new Set<NodeStream>();
  readonly #debouncer: PushDebouncer;
  readonly #guard: CallGuard;
  readonly #certs: CertificateService;
  /** Sidecars with a certificate, by stream (automatic mTLS marks their endpoints); recomputed when streams change. */
  #sidecarsDirty = true;
  #sidecars: KnownSidecar[] = [];
  #marked: { readonly base: MeshConfig; readonly sidecars: KnownSidecar[]; readonly config: MeshConfig } | undefined;
  readonly #admission: NodeAdmission;
  #nonce = 0;
  /** Scoped snapshots whose left-out VirtualServices were logged (once per snapshot). */
  readonly #reportedLeftOut = new WeakSet<NodeSnapshot>();
  /** Endpoint-only deltas by target snapshot, then base version (null: not endpoint-only). */
  readonly #deltas = new WeakMap<NodeSnapshot, Map<string, readonly EndpointDelta[] | null>>();
  readonly #maxBytes: number;
  #serving = true;
  /** Streams that still owe an ACK/NACK for the current push round. */
  #round: { start: bigint; pending: Set<NodeStream> } | undefined;

  constructor(opts: DiscoveryServerOptions) {
    this.#opts = opts;
    this.#maxBytes = opts.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES;
    this.#debouncer = new PushDebouncer(() => this.pushAll(), opts.debounceMs ?? 100, opts.debounceMaxMs ?? 10_000);
    const serverOptions: ServerOptions = {
      // Sidecars ping every 5 s even with no calls in flight; allow it, or a
      // strict HTTP/2 peer would answer GOAWAY too_many_pings.
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 4000,
      'grpc.http2.max_ping_strikes': 0,
      // Our own pings find sidecars that vanished without closing TCP.
      'grpc.keepalive_time_ms': opts.keepaliveTimeMs ?? 30_000,
      'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs ?? 10_000,
      // gRPC's 4 MiB default is too small for a big mesh; sidecars take the same flag.
      'grpc.max_send_message_length': opts.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES,
      'grpc.max_receive_message_length': opts.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES,
    };
    this.#grpc = new Server(serverOptions);
    this.#guard = new CallGuard(opts.security?.authenticator);
    this.#admission = new NodeAdmission(opts.checkNode);
    this.#certs = new CertificateService(this.#guard, opts.security?.issuer, opts.metrics, (msg) => opts.log?.('info', msg));
    const proto = loadDiscoveryProto();
    const admin = <T>(rpc: string, call: Parameters<CallGuard['admitAdmin']>[0], cb: (err: CallDenial | null, res?: T) => void, answer: () => T): void => {
      void this.#guard.admitAdmin(call).then((a: Admission) => {
        if (a.ok) return cb(null, answer());
        this.#denied(rpc, a.denial);
        cb(a.denial);
      });
    };
    const discovery: MeshDiscoveryHandlers = {
      StreamConfig: (call) => this.#onStream(call),
      GetStatus: (call, cb) =>
        admin('GetStatus', call, cb, () => ({
          controlPlaneId: this.controlPlaneId,
          generation: opts.store.generation(),
          nodes: this.status(),
          configErrors: opts.store.issues().map(toConfigError),
          sources: [...(opts.sources?.() ?? [])],
        })),
      GetNodeConfig: (call, cb) => admin('GetNodeConfig', call, cb, () => this.nodeConfig(call.request.nodeId)),
      CreateCertificate: this.#certs.handle,
      ApplyExperiment: async (call, cb) => {
        const ex = opts.experiments;
        if (ex === undefined || !(await this.#mayExperiment(call))) return cb({ code: GrpcStatus.PERMISSION_DENIED, details: 'experiments are accepted only from loopback or certificate-authenticated peers' });
        const r = call.request;
        ex.apply(r.name, r.virtualServiceYaml, r.ttlMs).then(
          (res) => (res.ok ? cb(null, { generation: res.generation, expiresAtMs: res.expiresAt, removed: false }) : cb({ code: GrpcStatus.INVALID_ARGUMENT, details: res.reason })),
          (err: Error) => cb({ code: GrpcStatus.INTERNAL, details: err.message }),
        );
      },
      RemoveExperiment: async (call, cb) => {
        const ex = opts.experiments;
        if (ex === undefined || !(await this.#mayExperiment(call))) return cb({ code: GrpcStatus.PERMISSION_DENIED, details: 'experiments are accepted only from loopback or certificate-authenticated peers' });
        ex.remove(call.request.name).then(
          (res) => cb(null, { generation: res.generation, expiresAtMs: 0, removed: res.removed }),
          (err: Error) => cb({ code: GrpcStatus.INTERNAL, details: err.message }),
        );
      },
    };
    this.#grpc.addService(proto.meshlet.v1.MeshDiscovery.service, discovery);
    const health: HealthHandlers = {
      Check: (_call, cb) => cb(null, { status: this.#serving ? 'SERVING' : 'NOT_SERVING' }),
      // One answer, then the stream stays open until shutdown ends it.
      Watch: (call) => void call.write({ status: this.#serving ? 'SERVING' : 'NOT_SERVING' }),
    };
    this.#grpc.addService(loadHealthProto().grpc.health.v1.Health.service, health);
  }

  async listen(host: string, port: number, tls?: TlsFiles): Promise<number> {
    await probePort(host, port, '--grpc-port');
    const creds = tls
      ? ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined)
      : ServerCredentials.createInsecure();
    const addr = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) =>
      this.#grpc.bindAsync(addr, creds, (err, bound) => (err ? reject(explainListenError(err, host, port, '--grpc-port')) : resolve(bound))),
    );
  }

  /**
   * The config nodes get: the store's, with endpoints that run a known
   * sidecar marked for automatic mTLS (build/sidecar-endpoints.ts). Cached
   * per store config and set of sidecars.
   */
  #config(): MeshConfig | undefined {
    const base = this.#opts.store.current();
    if (!base) return undefined;
    if (this.#sidecarsDirty) {
      const list: KnownSidecar[] = [];
      for (const st of this.#streams) {
        const id = st.node ? this.#certs.issued.get(st.node.id)?.spiffeId : undefined;
        if (id !== undefined) list.push({ address: peerAddress(st.call.getPeer()), spiffeId: id });
      }
      this.#sidecars = list;
      this.#sidecarsDirty = false;
    }
    const m = this.#marked;
    if (m !== undefined && m.base === base && m.sidecars === this.#sidecars) return m.config;
    const config = markSidecarEndpoints(base, this.#sidecars);
    this.#marked = { base, sidecars: this.#sidecars, config };
    return config;
  }

  /** A sidecar came or went: its endpoints' automatic mTLS may change, so push (debounced). */
  #sidecarsChanged(): void {
    this.#sidecarsDirty = true;
    this.#debouncer.trigger();
  }

  /** The store changed: push after the debounce. */
  onStoreChange(): void {
    this.#debouncer.trigger();
  }

  /** Sends the current snapshot to every subscribed stream that does not have it. */
  pushAll(): void {
    const config = this.#config();
    if (!config) return;
    const pending = new Set<NodeStream>();
    for (const s of this.#streams) if (s.node && this.#pushTo(s, config)) pending.add(s);
    if (pending.size > 0) this.#round = { start: process.hrtime.bigint(), pending };
  }

  status(): NodeStatusView[] {
    const config = this.#config();
    const rows: NodeStatusView[] = [];
    for (const s of this.#streams) {
      if (!s.node) continue;
      rows.push({
        nodeId: s.node.id,
        workload: s.node.workload,
        namespace: s.node.namespace,
        versionSent: s.versionSent,
        versionAcked: s.versionAcked,
        versionCurrent: config ? this.#opts.builder.build(config, s.node).version : '',
        lastNackVersion: s.lastNack?.rejected ?? '',
        lastNackReason: s.lastNack?.reason ?? '',
        connectedSince: s.connectedSince.toISOString(),
        lastPushAt: s.lastPushAt?.toISOString() ?? '',
        identity: this.#certs.issued.get(s.node.id)?.spiffeId ?? '',
        certExpiresAt: this.#certs.issued.get(s.node.id)?.notAfter.toISOString() ?? '',
        pushError: s.pushError,
      });
    }
    rows.push(...this.#admission.rows(new Set(rows.map((r) => r.nodeId))));
    return rows;
  }

  /** The MeshConfig `nodeId` gets (an anonymous node with that id when not connected). */
  nodeConfig(nodeId: string): NodeConfigResponse {
    const config = this.#config();
    let node = undefined;
    for (const s of this.#streams) if (s.node?.id === nodeId) node = s.node;
    if (!config) return { version: '', connected: node !== undefined, configJson: '' };
    const snap = this.#opts.builder.build(config, node ?? { id: nodeId, workload: '', namespace: '', labels: {} });
    return { version: snap.version, connected: node !== undefined, configJson: JSON.stringify(assemble(snap), null, 2) };
  }

  /** Ends every stream (sidecars reconnect elsewhere or later), then stops. */
  async close(graceMs = 2000): Promise<void> {
    this.#serving = false;
    this.#debouncer.cancel();
    for (const s of this.#streams) this.#drop(s);
    for (const s of [...this.#streams]) s.call.end();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.#grpc.forceShutdown();
        resolve();
      }, graceMs);
      this.#grpc.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  #onStream(call: StreamCall): void {
    if (!this.#serving) {
      call.emit('error', { code: GrpcStatus.UNAVAILABLE, details: 'shutting down' });
      return;
    }
    // Nothing is read until the caller is authenticated.
    call.pause();
    void this.#guard.admit(call).then((a) => {
      if (!a.ok) {
        this.#denied('StreamConfig', a.denial);
        call.emit('error', a.denial);
        return;
      }
      if (this.#serving) this.#accept(call, a.credential);
      else call.emit('error', { code: GrpcStatus.UNAVAILABLE, details: 'shutting down' });
    });
  }

  /** Loopback or a client certificate, or (secure control plane) an admin credential. */
  async #mayExperiment(call: Parameters<typeof mayExperiment>[0] & Parameters<CallGuard['admitAdmin']>[0]): Promise<boolean> {
    if (mayExperiment(call)) return true;
    return this.#guard.secure && (await this.#guard.admitAdmin(call)).ok;
  }

  #denied(rpc: string, d: CallDenial): void {
    const reason = d.code === GrpcStatus.UNAUTHENTICATED ? 'unauthenticated' : d.code === GrpcStatus.PERMISSION_DENIED ? 'permission_denied' : undefined;
    if (reason !== undefined) this.#opts.metrics.callsDenied.inc({ rpc, reason });
  }

  #accept(call: StreamCall, credential: Credential | undefined): void {
    const stream = new NodeStream(call, this.controlPlaneId, () => `${this.controlPlaneId}-${++this.#nonce}`);
    this.#streams.add(stream);
    this.#opts.metrics.connectedSidecars.inc();
    // Headers now, so the sidecar knows it is connected even when nothing is sent.
    call.sendMetadata(new Metadata());
    call.on('data', (req: DiscoveryRequest__Output) => {
      const n = req.subscribe?.node;
      let refused = req.kind === 'subscribe' && n ? this.#guard.checkSubscribe(credential, n.id, n.namespace) : undefined;
      if (refused === undefined && req.kind === 'subscribe' && n && n.id !== '') {
        refused = this.#admission.admit({ id: n.id, workload: n.workload, namespace: n.namespace, labels: n.labels, podName: n.podName, podIp: n.podIp, serviceAccount: n.serviceAccount });
        if (refused !== undefined) this.#opts.log?.('warn', `node ${n.id}: ${refused.details}`);
      }
      if (refused !== undefined) {
        this.#denied('StreamConfig', refused);
        call.emit('error', refused);
        return;
      }
      const outcome = stream.handle(req);
      if (outcome === 'invalid') {
        call.emit('error', { code: GrpcStatus.INVALID_ARGUMENT, details: 'first message must be a Subscribe with a node id' });
        return;
      }
      if (outcome === 'subscribed') {
        this.#sidecarsChanged();
        const config = this.#config();
        if (config) this.#pushTo(stream, config);
      } else if (outcome === 'nack') {
        this.#opts.metrics.nacks.inc();
        if (stream.lastWasDelta) {
          // A refused endpoint-only update is not a refused config: the sidecar gets it whole.
          this.#settle(stream);
          this.#resendWhole(stream);
          return;
        }
      }
      if (outcome === 'ack' || outcome === 'nack') this.#settle(stream);
    });
    const gone = (): void => {
      if (!this.#streams.delete(stream)) return;
      this.#sidecarsChanged();
      this.#drop(stream);
      this.#opts.metrics.connectedSidecars.dec();
    };
    call.on('end', () => {
      gone();
      call.end();
    });
    call.on('error', gone);
    call.on('cancelled', gone);
    call.on('close', gone);
    call.resume();
  }

  #pushTo(s: NodeStream, config: MeshConfig): boolean {
    const snap: NodeSnapshot = this.#opts.builder.build(config, s.node);
    if (snap.leftOut && !this.#reportedLeftOut.has(snap)) {
      this.#reportedLeftOut.add(snap);
      for (const l of snap.leftOut) this.#opts.log?.('warn', `${l.source} is not applied in namespace "${s.node?.namespace ?? ''}": it routes to ${l.host}, which is not exported there (exportTo)`);
    }
    const base = s.deltaBase();
    if (base !== undefined && base.version !== snap.version) {
      const deltas = this.#deltaBetween(base, snap);
      if (deltas !== undefined) {
        s.pushDelta(snap, deltas);
        this.#opts.metrics.pushes.inc();
        this.#opts.metrics.pushBytes.inc({ type: 'endpoints' }, s.lastPushBytes);
        return true;
      }
    }
    const hadError = s.pushError;
    if (!s.push(snap, false, this.#maxBytes)) {
      if (s.pushError !== '' && s.pushError !== hadError) this.#opts.log?.('error', `not sending node ${s.node?.id ?? '?'} its config: ${s.pushError}, over --max-config-bytes ${this.#maxBytes}`);
      return false;
    }
    this.#opts.metrics.pushes.inc();
    this.#opts.metrics.pushBytes.inc({ type: 'snapshot' }, s.lastPushBytes);
    this.#armHeartbeat(s, snap);
    return true;
  }

  /** Endpoint-only changes from one snapshot to another, computed once per pair and shared by the nodes that need it. */
  #deltaBetween(from: NodeSnapshot, to: NodeSnapshot): readonly EndpointDelta[] | undefined {
    let byBase = this.#deltas.get(to);
    if (byBase === undefined) this.#deltas.set(to, (byBase = new Map()));
    let d = byBase.get(from.version);
    if (d === undefined) byBase.set(from.version, (d = endpointDelta(from, to) ?? null));
    return d ?? undefined;
  }

  /** A sidecar refused an endpoint-only update (it does not run its base): send the whole snapshot. */
  #resendWhole(s: NodeStream): void {
    const config = this.#config();
    if (!config) return;
    const snap = this.#opts.builder.build(config, s.node);
    if (s.push(snap, true, this.#maxBytes)) {
      this.#opts.metrics.pushes.inc();
      this.#opts.metrics.pushBytes.inc({ type: 'snapshot' }, s.lastPushBytes);
      this.#armHeartbeat(s, snap);
    }
  }

  /** TTL'd resources expire on the sidecar unless refreshed: re-send them periodically. */
  #armHeartbeat(s: NodeStream, snap: NodeSnapshot): void {
    if (s.heartbeat) clearInterval(s.heartbeat);
    s.heartbeat = undefined;
    const every = this.#opts.heartbeatMs ?? 0;
    if (!snap.hasTtl || every <= 0) return;
    s.heartbeat = setInterval(() => {
      // Never re-send a version the sidecar NACKed or has not answered yet.
      const config = this.#config();
      if (!config || s.versionAcked !== s.versionSent) return;
      if (s.push(this.#opts.builder.build(config, s.node), true, this.#maxBytes)) this.#opts.metrics.pushes.inc();
    }, every);
    s.heartbeat.unref();
  }

  #settle(s: NodeStream): void {
    const round = this.#round;
    if (!round || !round.pending.delete(s) || round.pending.size > 0) return;
    this.#opts.metrics.pushDuration.observe(Number(process.hrtime.bigint() - round.start) / 1e9);
    this.#round = undefined;
  }

  #drop(s: NodeStream): void {
    if (s.heartbeat) clearInterval(s.heartbeat);
    s.heartbeat = undefined;
    this.#settle(s);
  }
}

function toConfigError(i: { file?: string; resource: string; path: string; reason: string }): ConfigError {
  return { resource: i.resource, path: i.path, reason: i.reason, file: i.file ?? '' };
}

/** The snapshot as one MeshConfig document, for `meshlet config` (every kind buildNodeSnapshot writes). */
function assemble(snap: NodeSnapshot): MeshConfig {
  const pick = (kind: string): unknown[] => snap.resources.filter((r) => r.kind === kind).map((r) => JSON.parse(r.body) as unknown);
  const optional = (key: string, kind: string): Record<string, unknown[]> => {
    const items = pick(kind);
    return items.length > 0 ? { [key]: items } : {};
  };
  const policy = pick('outbound_traffic_policy')[0] as { mode: string } | undefined;
  return {
    version: snap.version,
    services: pick('service'),
    clusters: pick('cluster'),
    virtualHosts: pick('virtual_host'),
    ...optional('tlsRoutes', 'tls_route'),
    ...optional('peerAuthentications', 'peer_authentication'),
    ...optional('authorizationPolicies', 'authorization_policy'),
    ...(policy !== undefined ? { outboundTrafficPolicy: policy.mode } : {}),
  } as unknown as MeshConfig;
}
