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

const EMPTY = Buffer.alloc(0);

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
   * Bytes gathered before a write is issued (default 56 KiB). Writing each
   * line on its own costs a thread-pool write per request at low rates
   * (measured: +50 µs CPU per request at 1000 req/s); a file write costs
   * ~45 µs of CPU whether it carries 8 or 60 KiB (this VM, ext4), so 56 KiB
   * batches (~120 lines) cost a seventh of 8 KiB ones. Gathered lines are
   * written at least every `flushMs`.
   */
  minLength?: number;
  /** Longest a gathered line waits before it is written (default 200 ms). */
  flushMs?: number;
}

/** Lines are encoded straight into chunks of this size (a line that cannot fit in one gets its own Buffer). */
const CHUNK_BYTES = 64 * 1024;
const TAIL_BYTES = 16 * 1024;

/** SonicBoom's types know only its string mode; with `contentMode: 'buffer'` it takes Buffers. */
const asBufferMode = (b: Buffer): string => b as unknown as string;

export class AccessLog implements ExchangeObserver {
  private readonly dest: ReturnType<typeof pino.destination> | undefined;
  readonly enabled: boolean;
  private readonly toFile: boolean;
  private readonly minLength: number;
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  // Lines are UTF-8-encoded into `chunk` at `pos`; [start, pos) is gathered
  // and not yet handed to SonicBoom. A handed-over range is never written
  // again (the write may still be in flight), so a full chunk is replaced,
  // never reused.
  private chunk: Buffer = EMPTY;
  private start = 0;
  private pos = 0;

  constructor(opts: AccessLogOptions) {
    this.enabled = opts.target !== 'off' && opts.target !== '';
    this.toFile = this.enabled && opts.target !== 'stdout';
    this.minLength = Math.min(opts.minLength ?? 56 * 1024, CHUNK_BYTES);
    if (!this.enabled) return;
    this.dest = pino.destination({
      dest: opts.target === 'stdout' ? 1 : opts.target,
      sync: false,
      // The batching is ours (below): SonicBoom writes each chunk as it comes.
      minLength: 0,
      maxWrite: CHUNK_BYTES,
      mkdir: true,
      // Why the access log does not hand SonicBoom strings or one Buffer per
      // line (quiet host, interleaved runs): in SonicBoom's default string
      // mode the lines are concatenated into one string that waits for
      // minLength bytes, outlives young-generation collections and is
      // promoted, and old-space GC became the access log's main cost (154–159
      // µs per small request vs 109–112 with the log off). One Buffer per line
      // (123–135 µs) still cost a Buffer.from per line, pool slabs kept until
      // their batch was written and SonicBoom's Buffer.concat of each batch;
      // encoding each line straight into a 64 KiB chunk does none of that
      // (observer micro-bench: 6.1–6.6 µs per logged request vs 6.9–7.4).
      contentMode: 'buffer',
    });
    // SonicBoom refuses to flush before its fd is open; 'ready' fires once, so listen now.
    this.dest.once('ready', () => {
      this.ready = true;
    });
    this.newChunk();
    // One shared timer bounds how stale a gathered line can get; it keeps nothing alive.
    this.timer = setInterval(() => this.handOver(), opts.flushMs ?? 200);
    this.timer.unref();
  }

  /** Appends one line (UTF-8) to the current chunk; hands the gathered bytes over at minLength. */
  private append(line: string): void {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    const worst = line.length * 3;
    if (this.pos + worst > CHUNK_BYTES) {
      this.handOver();
      if (worst > CHUNK_BYTES) {
        this.dest!.write(asBufferMode(Buffer.from(line, 'utf8')));
        return;
      }
      this.newChunk();
    }
    this.pos += this.chunk.write(line, this.pos, 'utf8');
    if (this.pos - this.start >= this.minLength) {
      this.handOver();
      // A short tail is left unused rather than sent later as a second, small write.
      if (CHUNK_BYTES - this.pos < TAIL_BYTES) this.newChunk();
    }
  }

  private newChunk(): void {
    this.chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.start = this.pos = 0;
  }

  /** Gives SonicBoom the gathered bytes (written at once, or after the write in flight). */
  private handOver(): void {
    if (this.pos === this.start || this.dest === undefined) return;
    this.dest.write(asBufferMode(this.chunk.subarray(this.start, this.pos)));
    this.start = this.pos;
  }

  onStart(_ex: Exchange, _upstreamHeaders: HeaderBag): void {}

  onComplete(ex: Exchange): void {
    if (this.dest === undefined) return;
    this.append(accessLogLine(ex));
  }

  /** The per-connection line of the L4 path. */
  onTcpClose(r: TcpRecord): void {
    if (this.dest === undefined) return;
    this.append(tcpAccessLogLine(r));
  }

  /** Writes out buffered lines; closes the file (never stdout). */
  async close(): Promise<void> {
    const dest = this.dest;
    if (dest === undefined) return;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.handOver();
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
