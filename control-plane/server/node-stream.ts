// One sidecar's config stream: who it is, what we sent, what it ACKed or
// NACKed. The xDS rules applied here: a nonce per response; ACK/NACK with a
// stale nonce is ignored; NACK is recognised by its error detail, never by a
// version mismatch; a rejected version is not re-sent until the config changes.
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { DiscoveryRequest__Output } from '../../proto/gen/meshlet/v1/DiscoveryRequest.js';
import type { DiscoveryResponse } from '../../proto/gen/meshlet/v1/DiscoveryResponse.js';
import { deltaBytes, type EndpointDelta, type NodeIdentity, type NodeSnapshot } from '../build/index.js';

export type StreamCall = ServerDuplexStream<DiscoveryRequest__Output, DiscoveryResponse>;

export interface NackRecord {
  /** The version that was rejected. */
  readonly rejected: string;
  readonly reason: string;
  readonly at: Date;
}

/** Outcome of one request, for the server's bookkeeping (metrics, push rounds). */
export type RequestOutcome = 'subscribed' | 'ack' | 'nack' | 'stale' | 'invalid';

export class NodeStream {
  readonly call: StreamCall;
  readonly connectedSince = new Date();
  node: NodeIdentity | undefined;
  /** Version the sidecar said it runs when it subscribed. */
  subscribedVersion = '';
  versionSent = '';
  versionAcked = '';
  nonceSent = '';
  lastPushAt: Date | undefined;
  /** Size of the last response sent (a whole snapshot or an endpoint-only update). */
  lastPushBytes = 0;
  lastNack: NackRecord | undefined;
  heartbeat: NodeJS.Timeout | undefined;
  /** Why the current snapshot could not be sent ('' when it was). */
  pushError = '';
  /** The sidecar applies endpoint-only updates (it said so when subscribing). */
  endpointDeltas = false;
  /** The snapshot behind versionSent (the base of the next endpoint-only update). */
  sentSnapshot: NodeSnapshot | undefined;
  /** The last response was an endpoint-only update (a NACK of it falls back to the whole snapshot). */
  lastWasDelta = false;
  readonly #controlPlaneId: string;
  readonly #nextNonce: () => string;

  constructor(call: StreamCall, controlPlaneId: string, nextNonce: () => string) {
    this.call = call;
    this.#controlPlaneId = controlPlaneId;
    this.#nextNonce = nextNonce;
  }

  /** Applies one request to this stream's state. */
  handle(req: DiscoveryRequest__Output): RequestOutcome {
    if (req.kind === 'subscribe' && req.subscribe) {
      const n = req.subscribe.node;
      if (!n || n.id === '') return 'invalid';
      this.node = { id: n.id, workload: n.workload, namespace: n.namespace, labels: { ...n.labels }, podName: n.podName, podIp: n.podIp, serviceAccount: n.serviceAccount };
      this.subscribedVersion = req.subscribe.currentVersion;
      this.endpointDeltas = req.subscribe.endpointDeltas;
      this.sentSnapshot = undefined;
      this.lastWasDelta = false;
      // A fresh stream: the sidecar runs currentVersion, whatever we sent before.
      this.versionAcked = req.subscribe.currentVersion;
      this.versionSent = '';
      this.nonceSent = '';
      return 'subscribed';
    }
    if (!this.node) return 'invalid';
    if (req.kind === 'ack' && req.ack) {
      if (req.ack.nonce !== this.nonceSent) return 'stale';
      this.versionAcked = req.ack.version;
      return 'ack';
    }
    if (req.kind === 'nack' && req.nack) {
      if (req.nack.nonce !== this.nonceSent) return 'stale';
      this.versionAcked = req.nack.version;
      const reason = req.nack.errorDetail.map((e) => `${e.file ? e.file + ': ' : ''}${e.resource}: ${e.path}: ${e.reason}`).join('; ');
      this.lastNack = { rejected: this.versionSent, reason: reason || 'rejected without detail', at: new Date() };
      return 'nack';
    }
    return 'invalid';
  }

  /**
   * Sends the snapshot unless the sidecar already has it. `force` re-sends the
   * same version (TTL heartbeat). Returns whether a response was written.
   */
  push(snapshot: NodeSnapshot, force = false, maxBytes = Infinity): boolean {
    const size = snapshotBytes(snapshot);
    if (size > maxBytes) {
      // Refuse rather than send what the sidecar's gRPC limit would reject
      // (it would reconnect, receive it again, and loop); the node shows ERROR.
      this.pushError = `snapshot too large (${size} bytes)`;
      return false;
    }
    this.pushError = '';
    if (!force) {
      if (snapshot.version === this.versionSent) return false;
      // Resubscribed with exactly what we would send: record it as in sync.
      if (this.versionSent === '' && snapshot.version === this.subscribedVersion) {
        this.versionSent = snapshot.version;
        this.sentSnapshot = snapshot;
        return false;
      }
    }
    const nonce = this.#nextNonce();
    this.versionSent = snapshot.version;
    this.sentSnapshot = snapshot;
    this.lastWasDelta = false;
    this.nonceSent = nonce;
    this.lastPushAt = new Date();
    this.lastPushBytes = size;
    this.call.write({ version: snapshot.version, nonce, resources: snapshot.resources as DiscoveryResponse['resources'], controlPlaneId: this.#controlPlaneId });
    return true;
  }

  /**
   * The base an endpoint-only update may start from: the snapshot this
   * sidecar was sent last, if it takes such updates. It need not have ACKed
   * it yet (the stream is ordered, so it applies that one first; waiting for
   * the ACK would turn every push during a churn into a whole snapshot), but
   * not if it NACKed it: it runs something else then.
   */
  deltaBase(): NodeSnapshot | undefined {
    const base = this.sentSnapshot;
    if (!this.endpointDeltas || base === undefined || this.versionSent !== base.version) return undefined;
    const refused = this.lastNack !== undefined && this.lastNack.rejected === base.version && this.versionAcked !== base.version;
    return refused ? undefined : base;
  }

  /** Sends `snapshot` as endpoint changes against deltaBase(). */
  pushDelta(snapshot: NodeSnapshot, deltas: readonly EndpointDelta[]): void {
    const base = this.sentSnapshot!;
    const nonce = this.#nextNonce();
    this.versionSent = snapshot.version;
    this.sentSnapshot = snapshot;
    this.lastWasDelta = true;
    this.nonceSent = nonce;
    this.lastPushAt = new Date();
    this.lastPushBytes = deltaBytes(deltas);
    this.call.write({
      version: snapshot.version,
      nonce,
      resources: [],
      controlPlaneId: this.#controlPlaneId,
      baseVersion: base.version,
      endpointDeltas: deltas.map((d) => ({ cluster: d.cluster, upserts: d.upserts, removed: d.removed.map((r) => ({ address: r.address, port: r.port })) })),
    });
  }
}

/**
 * The snapshot's encoded size, close enough to compare with a gRPC message
 * limit: protobuf adds a few bytes of framing per field, counted generously.
 * One byteLength per resource, against the JSON.stringify that built it.
 */
export function snapshotBytes(snapshot: NodeSnapshot): number {
  let n = 64 + Buffer.byteLength(snapshot.version);
  for (const r of snapshot.resources) n += Buffer.byteLength(r.body) + Buffer.byteLength(r.name) + r.kind.length + 32;
  return n;
}
