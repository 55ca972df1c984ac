// N simulated sidecar streams multiplexed over a few gRPC channels in the
// bench process. They ACK every response without decoding or validating it,
// so figures are the control plane's push cost plus protobuf transfer, not
// sidecar compile time. Each records the versions it ACKed and the payload
// bytes it received (resource bodies, or endpoint upserts + removals).
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadDiscoveryProto } from '../../proto/load.js';
import type { DiscoveryRequest } from '../../proto/gen/meshlet/v1/DiscoveryRequest.js';
import type { DiscoveryResponse__Output } from '../../proto/gen/meshlet/v1/DiscoveryResponse.js';
import type { MeshDiscoveryClient } from '../../proto/gen/meshlet/v1/MeshDiscovery.js';

export interface SimulatedSidecarsOptions {
  readonly target: string;
  readonly sidecars: number;
  readonly channels: number;
  /** Ask for endpoint-only updates (Subscribe.endpoint_deltas). */
  readonly endpointDeltas: boolean;
  readonly namespace?: string;
}

export function payloadBytes(res: DiscoveryResponse__Output): number {
  let n = 0;
  for (const r of res.resources) n += r.body.length + r.name.length + r.kind.length;
  for (const d of res.endpointDeltas) {
    n += d.cluster.length + d.upserts.length;
    for (const r of d.removed) n += r.address.length + 4;
  }
  return n;
}

export class SimulatedSidecars {
  readonly versions: string[];
  bytes = 0;
  responses = 0;
  deltas = 0;
  readonly #clients: MeshDiscoveryClient[];
  readonly #calls: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>[] = [];
  #waiting: { version: string; left: number; done: () => void } | undefined;
  #onAck: ((i: number, version: string) => void) | undefined;

  private constructor(o: SimulatedSidecarsOptions) {
    this.versions = new Array<string>(o.sidecars).fill('');
    const Client = loadDiscoveryProto().meshlet.v1.MeshDiscovery;
    // A local subchannel pool per client gives each its own HTTP/2 connection.
    this.#clients = Array.from({ length: o.channels }, () => new Client(o.target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': -1 }));
  }

  /** Connects every stream and resolves once each has ACKed a first snapshot. */
  static async connect(o: SimulatedSidecarsOptions): Promise<SimulatedSidecars> {
    const s = new SimulatedSidecars(o);
    await new Promise<void>((resolve) => {
      let synced = 0;
      for (let i = 0; i < o.sidecars; i++) {
        const call = s.#clients[i % o.channels]!.StreamConfig();
        s.#calls.push(call);
        call.on('error', () => {});
        call.on('data', (res: DiscoveryResponse__Output) => {
          s.bytes += payloadBytes(res);
          s.responses++;
          if (res.baseVersion !== '') s.deltas++;
          const first = s.versions[i] === '';
          s.versions[i] = res.version;
          call.write({ ack: { version: res.version, nonce: res.nonce } });
          if (first && ++synced === o.sidecars) resolve();
          s.#onAck?.(i, res.version);
          const w = s.#waiting;
          if (w && res.version === w.version && --w.left === 0) {
            s.#waiting = undefined;
            w.done();
          }
        });
        call.write({ subscribe: { node: { id: `sidecar-${i}`, workload: 'bench', namespace: o.namespace ?? 'default', labels: {} }, currentVersion: '', endpointDeltas: o.endpointDeltas } });
      }
    });
    return s;
  }

  /** Resolves once every stream has ACKed `version`. */
  allAt(version: string): Promise<void> {
    const left = this.versions.filter((v) => v !== version).length;
    if (left === 0) return Promise.resolve();
    return new Promise((done) => (this.#waiting = { version, left, done }));
  }

  onAck(f: ((i: number, version: string) => void) | undefined): void {
    this.#onAck = f;
  }

  close(): void {
    for (const c of this.#calls) c.cancel();
    for (const c of this.#clients) c.close();
  }
}
