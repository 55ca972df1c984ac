// Whether a subscribing node is who it says it is (Kubernetes mode: its pod
// identity against the Pod object), and a bounded memory of the refusals so
// `meshlet status` can show them (a refused node has no stream to show).
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { NodeIdentity } from '../build/index.js';
import type { NodeStatusView } from '../status/index.js';
import type { CallDenial } from './call-guard.js';

/** `retry`: maybe not known yet (UNAVAILABLE, the sidecar backs off and retries); `mismatch`: PERMISSION_DENIED. */
export type NodeCheck = (node: NodeIdentity) => { readonly ok: true } | { readonly ok: false; readonly kind: 'retry' | 'mismatch'; readonly reason: string };

const MAX_REMEMBERED = 256;

export class NodeAdmission {
  readonly #check: NodeCheck | undefined;
  readonly #refused = new Map<string, { node: NodeIdentity; reason: string; at: Date }>();

  constructor(check: NodeCheck | undefined) {
    this.#check = check;
  }

  /** undefined = admitted (and any earlier refusal forgotten), else the denial to end the stream with. */
  admit(node: NodeIdentity): CallDenial | undefined {
    if (this.#check === undefined) return undefined;
    const v = this.#check(node);
    if (v.ok) {
      this.#refused.delete(node.id);
      return undefined;
    }
    this.#refused.delete(node.id);
    this.#refused.set(node.id, { node, reason: v.reason, at: new Date() });
    if (this.#refused.size > MAX_REMEMBERED) this.#refused.delete(this.#refused.keys().next().value!);
    return { code: v.kind === 'retry' ? GrpcStatus.UNAVAILABLE : GrpcStatus.PERMISSION_DENIED, details: `subscription refused: ${v.reason}` };
  }

  /** Status rows for refused nodes that are not connected now. */
  rows(connected: ReadonlySet<string>): NodeStatusView[] {
    const out: NodeStatusView[] = [];
    for (const [id, r] of this.#refused) {
      if (connected.has(id)) continue;
      out.push({
        nodeId: id,
        workload: r.node.workload,
        namespace: r.node.namespace,
        versionSent: '',
        versionAcked: '',
        versionCurrent: '',
        lastNackVersion: '',
        lastNackReason: '',
        connectedSince: '',
        lastPushAt: r.at.toISOString(),
        refused: r.reason,
      });
    }
    return out;
  }
}
