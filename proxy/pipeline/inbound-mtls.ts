// The inbound side's PeerAuthentication, as the connection dispatcher asks
// for it: the mode for a connection (the workload port's port-level mode, else
// the workload's, from the snapshot's resolved policy), termination with the
// workload certificate, and the count of connections STRICT refused. Without
// a workload certificate (standalone, --insecure) nothing can be terminated:
// PERMISSIVE passes everything on as before, STRICT refuses everything.
import type { Socket } from 'node:net';
import type { MtlsMode } from '../config/model/index.js';
import type { MeshTls, TlsCounters } from '../identity/mesh-tls.js';
import type { ConnectionInfo, InboundMtls } from '../listener/connection-dispatch.js';
import { InFlightList } from '../listener/in-flight-list.js';
import type { Snapshot } from '../snapshot/index.js';

const PLAIN_CONN = Symbol('meshlet.plain-conn');
type PlainSocket = Socket & { [PLAIN_CONN]?: ConnectionInfo };

export interface InboundMtlsOptions {
  readonly snapshot: () => Snapshot | undefined;
  /** The app port a connection without an original destination is for (--app-port). */
  readonly appPort: number;
  readonly mesh: MeshTls | undefined;
  readonly counters: TlsCounters;
  readonly onRefused?: (conn: ConnectionInfo, why: 'plaintext' | 'no_certificate') => void;
}

/** The inbound gate, plus `enforce()`: run after each config swap. */
export interface InboundMtlsGate extends InboundMtls {
  /**
   * Closes the connections let in without mesh mTLS whose port is now STRICT
   * (counted as refused): a policy change must not leave plaintext
   * connections opened before it running (Envoy drains them with the old
   * listener). Cost: one pass over those connections, only when some port is STRICT.
   */
  enforce(): void;
}

export function inboundMtls(o: InboundMtlsOptions): InboundMtlsGate {
  /** Connections let in without mesh mTLS, until they close (a list, not a Map: in-flight-list.ts says why). */
  const plain = new InFlightList<Socket>();
  const mode = (conn: ConnectionInfo): MtlsMode => {
    const pa = o.snapshot()?.peerAuth;
    if (pa === undefined) return 'PERMISSIVE';
    const port = conn.redirected ? conn.dstPort : o.appPort;
    return pa.ports.size > 0 ? (pa.ports.get(port) ?? pa.mode) : pa.mode;
  };
  const refused = (conn: ConnectionInfo, why: 'plaintext' | 'no_certificate'): void => {
    o.counters.plaintextRefused++;
    o.onRefused?.(conn, why);
  };
  return {
    mode,
    admitted(socket: Socket, conn: ConnectionInfo): void {
      (socket as PlainSocket)[PLAIN_CONN] = conn;
      plain.add(socket);
      socket.once('close', () => plain.delete(socket));
    },
    enforce(): void {
      const pa = o.snapshot()?.peerAuth;
      if (pa === undefined || plain.size === 0) return;
      let strict = pa.mode === 'STRICT';
      for (const m of pa.ports.values()) strict ||= m === 'STRICT';
      if (!strict) return;
      for (const socket of plain) {
        const conn = (socket as PlainSocket)[PLAIN_CONN]!;
        if (mode(conn) !== 'STRICT') continue;
        plain.delete(socket);
        refused(conn, 'plaintext');
        socket.destroy();
      }
    },
    terminate(socket: Socket, secured: (s: Socket) => void): boolean {
      return o.mesh !== undefined && o.mesh.accept(socket, secured);
    },
    refused,
  };
}
