// The sidecar end of the config stream. Subscribes with the version it runs,
// decodes + validates each snapshot, hands it to `apply` (which swaps the
// proxy's snapshot atomically), and ACKs; anything wrong is NACKed with every
// issue and the previous version, and nothing is applied. When the control
// plane is gone the proxy simply keeps its last good config while this client
// reconnects with jittered backoff.
import { credentials, Metadata, type ChannelCredentials, type ChannelOptions, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadDiscoveryProto } from '../../proto/load.js';
import type { DiscoveryRequest } from '../../proto/gen/meshlet/v1/DiscoveryRequest.js';
import type { DiscoveryResponse__Output } from '../../proto/gen/meshlet/v1/DiscoveryResponse.js';
import type { MeshDiscoveryClient } from '../../proto/gen/meshlet/v1/MeshDiscovery.js';
import { validateSnapshot } from '../config/validate/validate-snapshot.js';
import type { ConfigIssue, MeshConfig } from '../config/model/index.js';
import { Backoff } from './backoff.js';
import { callMetadata, type ControlPlaneAuth } from './control-plane-credentials.js';
import { applyEndpointDeltas } from './apply-endpoint-deltas.js';
import { decodeSnapshot, withoutExpired } from './decode-snapshot.js';

export type StreamState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface NodeInfo {
  readonly id: string;
  readonly workload: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Kubernetes pod identity (downward API), checked by the control plane against the Pod object. */
  readonly podName?: string;
  readonly podIp?: string;
  readonly serviceAccount?: string;
}

export interface ConfigStreamClientOptions {
  /** host:port of the control plane. */
  readonly target: string;
  readonly node: NodeInfo;
  /** Validate-and-swap in the proxy. An empty array means applied. */
  readonly apply: (config: MeshConfig) => ConfigIssue[];
  /** Version the proxy runs now (undefined before any config). */
  readonly currentVersion: () => string | undefined;
  readonly onState?: (state: 'connecting' | 'connected' | 'disconnected') => void;
  /**
   * Every NACK we send: the version rejected, why, and at which stage
   * (`apply` issues were already reported by the apply callback itself).
   */
  readonly onReject?: (version: string, issues: readonly ConfigIssue[], stage: 'decode' | 'validate' | 'apply') => void;
  /** Largest message accepted (gRPC max receive/send length; default 64 MiB). */
  readonly maxConfigBytes?: number;
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** TLS verified against the control plane's root plus a bearer token on the stream (wins over `tls`). */
  readonly auth?: ControlPlaneAuth;
  /** Keepalive (default 5 s / 5 s: a dead peer is noticed in ~10 s). */
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** Reconnect backoff (default 250 ms base, 10 s cap, full jitter). */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly now?: () => number;
  /** Ask for endpoint-only updates instead of whole snapshots when only endpoints change (default true). */
  readonly endpointDeltas?: boolean;
}

export const DEFAULT_MAX_CONFIG_BYTES = 64 * 1024 * 1024;

type Call = ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>;

export class ConfigStreamClient {
  readonly #opts: ConfigStreamClientOptions;
  readonly #backoff: Backoff;
  readonly #now: () => number;
  #client: MeshDiscoveryClient | undefined;
  #call: Call | undefined;
  #state: StreamState = 'idle';
  #retry: NodeJS.Timeout | undefined;
  #expiry: NodeJS.Timeout | undefined;
  /** The config applied last (the base of endpoint-only updates). */
  #running: MeshConfig | undefined;

  constructor(opts: ConfigStreamClientOptions) {
    this.#opts = opts;
    this.#backoff = new Backoff(opts.backoffBaseMs ?? 250, opts.backoffMaxMs ?? 10_000);
    this.#now = opts.now ?? Date.now;
  }

  get state(): StreamState {
    return this.#state;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    const creds: ChannelCredentials = this.#opts.auth
      ? credentials.createSsl(this.#opts.auth.ca)
      : this.#opts.tls
      ? credentials.createSsl(this.#opts.tls.ca ?? null, this.#opts.tls.key ?? null, this.#opts.tls.cert ?? null)
      : credentials.createInsecure();
    const channelOptions: ChannelOptions = {
      'grpc.keepalive_time_ms': this.#opts.keepaliveTimeMs ?? 5000,
      'grpc.keepalive_timeout_ms': this.#opts.keepaliveTimeoutMs ?? 5000,
      // The stream is idle between pushes; without this no pings are sent and a frozen peer goes unnoticed.
      'grpc.keepalive_permit_without_calls': 1,
      // gRPC's 4 MiB default is too small for a big mesh; the same flag bounds the control plane's side.
      'grpc.max_receive_message_length': this.#opts.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES,
      'grpc.max_send_message_length': this.#opts.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES,
    };
    const Client = loadDiscoveryProto().meshlet.v1.MeshDiscovery;
    this.#client = new Client(this.#opts.target, creds, channelOptions);
    this.#connect();
  }

  /** Stops for good; the proxy keeps whatever it runs. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#retry) clearTimeout(this.#retry);
    if (this.#expiry) clearTimeout(this.#expiry);
    const call = this.#call;
    this.#call = undefined;
    call?.cancel();
    this.#client?.close();
  }

  #setState(s: 'connecting' | 'connected' | 'disconnected'): void {
    if (this.#state === 'closed' || this.#state === s) return;
    this.#state = s;
    this.#opts.onState?.(s);
  }

  #connect(): void {
    if (this.#state === 'closed' || !this.#client) return;
    this.#setState('connecting');
    let md: Metadata;
    try {
      md = callMetadata(this.#opts.auth);
    } catch {
      // The token file is unreadable right now (being rotated?): try again later.
      return this.#retryLater();
    }
    const call = this.#client.StreamConfig(md);
    this.#call = call;
    // The server sends headers as soon as it accepts the stream. The backoff
    // resets only once a config has been applied: a stream that connects and
    // then fails (e.g. a message over the size limit) must not reconnect in a hot loop.
    call.on('metadata', () => {
      if (this.#call !== call) return;
      this.#setState('connected');
    });
    call.on('data', (res: DiscoveryResponse__Output) => {
      if (this.#call === call) this.#onResponse(call, res);
    });
    // 'error' must be handled or it throws; 'status' is the one end-of-call signal.
    call.on('error', () => {});
    call.on('status', () => this.#onDown(call));
    const n = this.#opts.node;
    call.write({
      subscribe: {
        node: { id: n.id, workload: n.workload, namespace: n.namespace, labels: { ...n.labels }, podName: n.podName ?? '', podIp: n.podIp ?? '', serviceAccount: n.serviceAccount ?? '' },
        currentVersion: this.#opts.currentVersion() ?? '',
        endpointDeltas: this.#opts.endpointDeltas ?? true,
      },
    });
  }

  #onDown(call: Call): void {
    if (this.#call !== call || this.#state === 'closed') return;
    this.#call = undefined;
    call.end();
    this.#retryLater();
  }

  #retryLater(): void {
    this.#setState('disconnected');
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#connect();
    }, this.#backoff.next());
  }

  #onResponse(call: Call, res: DiscoveryResponse__Output): void {
    if (res.baseVersion !== '') return this.#onEndpointDelta(call, res);
    const decoded = decodeSnapshot(res.version, res.resources, this.#now());
    if (!decoded.ok) return this.#nack(call, res, decoded.issues, 'decode');
    const validated = validateSnapshot(decoded.config);
    if (!validated.ok) return this.#nack(call, res, validated.issues, 'validate');
    const config: MeshConfig = { ...validated.config, version: res.version };
    const issues = this.#apply(config);
    if (issues.length > 0) return this.#nack(call, res, issues, 'apply');
    this.#running = config;
    this.#backoff.reset();
    call.write({ ack: { version: res.version, nonce: res.nonce } });
    this.#armExpiry(config, decoded.expiresAt);
  }

  /** Endpoint-only update: patch the running config's clusters, check only those, apply. */
  #onEndpointDelta(call: Call, res: DiscoveryResponse__Output): void {
    const running = this.#running;
    // Also after a TTL expiry (`<version>~expired`): the control plane then sends the whole snapshot.
    if (running === undefined || running.version !== res.baseVersion || this.#opts.currentVersion() !== res.baseVersion) {
      const have = this.#opts.currentVersion() ?? 'nothing';
      return this.#nack(call, res, [{ resource: 'DiscoveryResponse', path: 'base_version', reason: `endpoint update for version ${res.baseVersion}, but this sidecar runs ${have}` }], 'decode');
    }
    const patched = applyEndpointDeltas(running, res.version, res.endpointDeltas);
    if (!patched.ok) return this.#nack(call, res, patched.issues, 'validate');
    const issues = this.#apply(patched.config);
    if (issues.length > 0) return this.#nack(call, res, issues, 'apply');
    this.#running = patched.config;
    this.#backoff.reset();
    call.write({ ack: { version: res.version, nonce: res.nonce } });
  }

  #apply(config: MeshConfig): ConfigIssue[] {
    try {
      return this.#opts.apply(config);
    } catch (err) {
      return [{ resource: 'MeshConfig', path: '', reason: `apply threw: ${(err as Error).message}` }];
    }
  }

  #nack(call: Call, res: DiscoveryResponse__Output, issues: readonly ConfigIssue[], stage: 'decode' | 'validate' | 'apply'): void {
    const nonce = res.nonce;
    const previous = this.#opts.currentVersion() ?? '';
    this.#opts.onReject?.(res.version, issues, stage);
    call.write({
      nack: {
        version: previous,
        nonce,
        errorDetail: issues.map((i) => ({ resource: i.resource, path: i.path, reason: i.reason, file: i.file ?? '' })),
      },
    });
  }

  /**
   * Faults/mirrors with a TTL stop when it lapses without a refresh (the
   * control plane re-sends them while alive): re-apply the config without them.
   */
  #armExpiry(config: MeshConfig, expiresAt: number | undefined): void {
    if (this.#expiry) clearTimeout(this.#expiry);
    this.#expiry = undefined;
    if (expiresAt === undefined) return;
    this.#expiry = setTimeout(() => {
      this.#expiry = undefined;
      if (this.#state === 'closed') return;
      const expired = withoutExpired(config, this.#now());
      if (this.#apply(expired).length === 0) this.#running = expired;
    }, Math.max(0, expiresAt - this.#now()));
    this.#expiry.unref();
  }
}
