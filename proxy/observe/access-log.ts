// Envoy-style JSON access log: one line per request written to pino 10's
// asynchronous SonicBoom destination, so a slow disk or pipe never blocks the
// request path (lines are buffered and written in the background; flushed on
// close). `--access-log off|stdout|<file>`.
// The line is JSON.stringify of a fixed-shape object, not a pino logger call:
// pino always adds a level key (an empty level formatter emits invalid JSON,
// `{,"a":1}`, in 10.4.0), and the access log needs no levels.
import { pino } from 'pino';
import { flagsToString } from '../errors/index.js';
import type { Exchange, ExchangeObserver } from '../pipeline/exchange.js';
import type { HeaderBag } from './b3.js';

/** The fields of one line, in Envoy's vocabulary (shared with tap events). */
export interface AccessLogEntry {
  start_time: string;
  direction: string;
  method: string;
  path: string;
  protocol: string;
  authority: string;
  response_code: number;
  response_flags: string;
  bytes_received: number;
  bytes_sent: number;
  /** ms, whole request. */
  duration: number;
  /** ms to upstream response headers; null when no upstream answered. */
  upstream_service_time: number | null;
  upstream_host: string | null;
  upstream_cluster: string | null;
  route_name: string | null;
  x_request_id: string;
  trace_id: string | null;
  attempt_count: number;
  /** Local reply reason (Envoy's %RESPONSE_CODE_DETAILS%). */
  detail: string | null;
}

/** Builds the entry; one object literal with a fixed shape per request. */
export function accessLogEntry(ex: Exchange): AccessLogEntry {
  return {
    start_time: new Date(ex.startEpochMs).toISOString(),
    direction: ex.direction,
    method: ex.method,
    path: ex.path,
    protocol: ex.protocol,
    authority: ex.authority,
    response_code: ex.status,
    response_flags: flagsToString(ex.flags),
    bytes_received: ex.bytesIn,
    bytes_sent: ex.bytesOut,
    duration: Math.round(ex.durationMs),
    upstream_service_time: ex.upstreamHeadersMs > 0 ? Math.round(ex.upstreamHeadersMs) : null,
    upstream_host: ex.endpoint !== undefined ? ex.endpoint.authority : null,
    upstream_cluster: ex.destination !== undefined ? ex.destination.cluster : null,
    route_name: ex.routeName !== '' ? ex.routeName : null,
    x_request_id: ex.requestId,
    trace_id: ex.trace !== undefined && ex.trace.traceId !== '' ? ex.trace.traceId : null,
    attempt_count: ex.attempts,
    detail: ex.detail !== '' ? ex.detail : null,
  };
}

export interface AccessLogOptions {
  /** `off`, `stdout`, or a file path (appended). */
  target: string;
  /**
   * Bytes SonicBoom buffers before issuing a write. Default 0: lines go out
   * promptly at low traffic (there is no flush timer), and under load lines
   * still batch while the previous async write is in flight.
   */
  minLength?: number;
}

export class AccessLog implements ExchangeObserver {
  private readonly dest: ReturnType<typeof pino.destination> | undefined;
  readonly enabled: boolean;
  private readonly toFile: boolean;
  private ready = false;

  constructor(opts: AccessLogOptions) {
    this.enabled = opts.target !== 'off' && opts.target !== '';
    this.toFile = this.enabled && opts.target !== 'stdout';
    if (!this.enabled) return;
    this.dest = pino.destination({
      dest: opts.target === 'stdout' ? 1 : opts.target,
      sync: false,
      minLength: opts.minLength ?? 0,
      mkdir: true,
    });
    // SonicBoom refuses to flush before its fd is open; 'ready' fires once, so listen now.
    this.dest.once('ready', () => {
      this.ready = true;
    });
  }

  onStart(_ex: Exchange, _upstreamHeaders: HeaderBag): void {}

  onComplete(ex: Exchange): void {
    if (this.dest !== undefined) this.dest.write(JSON.stringify(accessLogEntry(ex)) + '\n');
  }

  /** Writes out buffered lines; closes the file (never stdout). */
  async close(): Promise<void> {
    const dest = this.dest;
    if (dest === undefined) return;
    if (!this.ready) await new Promise<void>((resolve) => dest.once('ready', () => resolve()));
    if (this.toFile) {
      // end() flushes what is buffered, then closes the file.
      await new Promise<void>((resolve) => {
        dest.once('close', () => resolve());
        dest.end();
      });
    } else {
      await new Promise<void>((resolve) => dest.flush(() => resolve()));
    }
  }
}
