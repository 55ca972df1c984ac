// Envoy-style JSON access log: one line per request written to pino 10's
// asynchronous SonicBoom destination, so a slow disk or pipe never blocks the
// request path (lines are buffered and written in the background; flushed on
// close). `--access-log off|stdout|<file>`.
// The line is JSON.stringify of a fixed-shape object, not a pino logger call:
// pino always adds a level key (an empty level formatter emits invalid JSON,
// `{,"a":1}`, in 10.4.0), and the access log needs no levels.
import { pino } from 'pino';
import { flagsToString } from '../errors/index.js';
import type { Exchange, ExchangeObserver, TcpRecord } from '../exchange/index.js';
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
  /** gRPC status (from trailers, a trailers-only answer or our local reply); null when not gRPC. */
  grpc_status: number | null;
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

// The ISO timestamp up to the second changes once a second: cache it.
let isoSecond = -1;
let isoPrefix = '';
function isoTime(epochMs: number): string {
  const sec = Math.floor(epochMs / 1000);
  if (sec !== isoSecond) {
    isoSecond = sec;
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20); // `2026-11-25T17:21:04.`
  }
  const ms = epochMs - sec * 1000;
  return isoPrefix + (ms < 10 ? '00' : ms < 100 ? '0' : '') + Math.floor(ms) + 'Z';
}

/** A JSON string literal; the common case (no quote, backslash or control char) skips JSON.stringify. */
function str(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

function strOrNull(s: string | undefined): string {
  return s === undefined || s === '' ? 'null' : str(s);
}

/**
 * The access-log line, built by concatenation in the same field order as
 * AccessLogEntry: measured at about a third of JSON.stringify(entry) plus
 * toISOString, and no intermediate object per request.
 */
export function accessLogLine(ex: Exchange): string {
  return (
    '{"start_time":"' + isoTime(ex.startEpochMs) +
    '","direction":"' + ex.direction +
    '","method":' + str(ex.method) +
    ',"path":' + str(ex.path) +
    ',"protocol":"' + ex.protocol +
    '","authority":' + str(ex.authority) +
    ',"response_code":' + ex.status +
    ',"response_flags":"' + flagsToString(ex.flags) +
    '","grpc_status":' + (ex.grpcStatus >= 0 ? ex.grpcStatus : 'null') +
    ',"bytes_received":' + ex.bytesIn +
    ',"bytes_sent":' + ex.bytesOut +
    ',"duration":' + Math.round(ex.durationMs) +
    ',"upstream_service_time":' + (ex.upstreamHeadersMs > 0 ? Math.round(ex.upstreamHeadersMs) : 'null') +
    ',"upstream_host":' + strOrNull(ex.endpoint?.authority) +
    ',"upstream_cluster":' + strOrNull(ex.destination?.cluster) +
    ',"route_name":' + strOrNull(ex.routeName) +
    ',"x_request_id":' + str(ex.requestId) +
    ',"trace_id":' + strOrNull(ex.trace?.traceId) +
    ',"attempt_count":' + ex.attempts +
    ',"detail":' + strOrNull(ex.detail) +
    '}\n'
  );
}

/**
 * One line per TCP (or TLS passthrough) connection, written when it closes:
 * the HTTP line's keys where they mean the same thing (no method, path or
 * status), plus where the client meant to go and the SNI.
 */
/** `10.0.0.1:80`, `[fd00::1]:80`: an IPv6 address is bracketed, as Envoy writes it (and as upstream_host is). */
function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function tcpAccessLogLine(r: TcpRecord): string {
  return (
    '{"start_time":"' + isoTime(r.startEpochMs) +
    '","direction":"' + r.direction +
    '","protocol":"' + (r.conn.protocol === 'tls' ? 'tls' : 'tcp') +
    '","downstream_remote":' + str(hostPort(r.conn.srcAddress, r.conn.srcPort)) +
    ',"original_dst":' + str(hostPort(r.conn.dstAddress, r.conn.dstPort)) +
    ',"sni":' + strOrNull(r.conn.sni ?? undefined) +
    ',"response_flags":"' + flagsToString(r.flags) +
    '","bytes_received":' + r.bytesReceived +
    ',"bytes_sent":' + r.bytesSent +
    ',"duration":' + Math.round(r.durationMs) +
    ',"upstream_host":' + strOrNull(r.upstreamHost) +
    ',"upstream_cluster":' + str(r.destination.cluster) +
    ',"route_name":' + strOrNull(r.routeName) +
    '}\n'
  );
}

/** Builds the entry; one object literal with a fixed shape per request (tap events). */
export function accessLogEntry(ex: Exchange): AccessLogEntry {
  return {
    start_time: isoTime(ex.startEpochMs),
    direction: ex.direction,
    method: ex.method,
    path: ex.path,
    protocol: ex.protocol,
    authority: ex.authority,
    response_code: ex.status,
    response_flags: flagsToString(ex.flags),
    grpc_status: ex.grpcStatus >= 0 ? ex.grpcStatus : null,
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
   * Bytes SonicBoom buffers before issuing a write (default 56 KiB, under the
   * 64 KiB maxWrite set below). Writing each line on its own costs a
   * thread-pool write per request at low rates (measured: +50 µs CPU per
   * request at 1000 req/s); a file write costs ~45 µs of CPU whether it
   * carries 8 or 60 KiB (this VM, ext4), so 56 KiB batches (~120 lines) cost
   * a seventh of 8 KiB ones. Buffered lines are flushed at least every `flushMs`.
   */
  minLength?: number;
  /** Longest a buffered line waits before it is written (default 200 ms). */
  flushMs?: number;
}

/** SonicBoom's types know only its string mode; with `contentMode: 'buffer'` it takes Buffers. */
const asBufferMode = (b: Buffer): string => b as unknown as string;

export class AccessLog implements ExchangeObserver {
  private readonly dest: ReturnType<typeof pino.destination> | undefined;
  readonly enabled: boolean;
  private readonly toFile: boolean;
  private ready = false;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: AccessLogOptions) {
    this.enabled = opts.target !== 'off' && opts.target !== '';
    this.toFile = this.enabled && opts.target !== 'stdout';
    if (!this.enabled) return;
    this.dest = pino.destination({
      dest: opts.target === 'stdout' ? 1 : opts.target,
      sync: false,
      minLength: opts.minLength ?? 56 * 1024,
      maxWrite: 64 * 1024,
      mkdir: true,
      // Each line goes in as a Buffer, so the line's string dies young. In
      // SonicBoom's default string mode the lines are concatenated into one
      // string that waits for minLength bytes: it outlives young-generation
      // collections and is promoted, and old-space GC became the access log's
      // main cost (quiet host, 3 interleaved runs: access log on 154–159 µs
      // per small request in string mode, 123–135 as Buffers, 109–112 off).
      contentMode: 'buffer',
    });
    // SonicBoom refuses to flush before its fd is open; 'ready' fires once, so listen now.
    this.dest.once('ready', () => {
      this.ready = true;
    });
    // One shared timer bounds how stale a buffered line can get; it keeps nothing alive.
    this.timer = setInterval(() => this.flushPending(), opts.flushMs ?? 200);
    this.timer.unref();
  }

  private flushPending(): void {
    if (!this.pending || !this.ready || this.dest === undefined) return;
    this.pending = false;
    this.dest.flush();
  }

  onStart(_ex: Exchange, _upstreamHeaders: HeaderBag): void {}

  onComplete(ex: Exchange): void {
    if (this.dest === undefined) return;
    this.dest.write(asBufferMode(Buffer.from(accessLogLine(ex), 'utf8')));
    this.pending = true;
  }

  /** The per-connection line of the L4 path. */
  onTcpClose(r: TcpRecord): void {
    if (this.dest === undefined) return;
    this.dest.write(asBufferMode(Buffer.from(tcpAccessLogLine(r), 'utf8')));
    this.pending = true;
  }

  /** Writes out buffered lines; closes the file (never stdout). */
  async close(): Promise<void> {
    const dest = this.dest;
    if (dest === undefined) return;
    if (this.timer !== undefined) clearInterval(this.timer);
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
