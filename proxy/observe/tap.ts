// Live request tap (like `linkerd viz tap`): GET /tap on the admin server
// streams one NDJSON event per matching completed request. When nobody taps,
// onComplete is a single boolean check. Slow tap clients lose events rather
// than making the proxy buffer them.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Exchange, ExchangeObserver } from '../exchange/index.js';
import { accessLogEntry, type AccessLogEntry } from './access-log.js';
import type { HeaderBag } from './b3.js';

export const REDACTED = '[REDACTED]';
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);

export interface TapFilter {
  /** Substring of the destination service or cluster. */
  destination?: string;
  /** Prefix of the request path. */
  pathPrefix?: string;
  /** `5xx`-style class (100..500) or an exact status. */
  statusClass?: number;
  statusExact?: number;
  /** Events to send before ending the stream. */
  max: number;
  /** ms before ending the stream. */
  durationMs: number;
}

export interface TapEvent extends AccessLogEntry {
  request_headers: Record<string, string | string[]>;
}

export const TAP_DEFAULT_MAX = 100;
export const TAP_MAX_MAX = 10_000;
export const TAP_DEFAULT_DURATION_MS = 60_000;
export const TAP_MAX_DURATION_MS = 10 * 60_000;

export function redactHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined) continue;
    out[k] = SECRET_HEADERS.has(k) ? REDACTED : v;
  }
  return out;
}

export function tapEvent(ex: Exchange): TapEvent {
  const e = accessLogEntry(ex) as TapEvent;
  e.request_headers = redactHeaders(ex.req.headers);
  return e;
}

export function matches(f: TapFilter, ex: Exchange): boolean {
  if (f.destination !== undefined) {
    const d = ex.destination;
    if (d === undefined || (!d.service.includes(f.destination) && !d.cluster.includes(f.destination))) return false;
  }
  if (f.pathPrefix !== undefined && !ex.path.startsWith(f.pathPrefix)) return false;
  if (f.statusClass !== undefined && Math.floor(ex.status / 100) * 100 !== f.statusClass) return false;
  if (f.statusExact !== undefined && ex.status !== f.statusExact) return false;
  return true;
}

/** Parses `?destination=&path=&status=5xx|503&max=&duration=`; returns an error message for bad input. */
export function parseTapQuery(url: string): TapFilter | string {
  const q = new URL(url, 'http://tap').searchParams;
  const f: TapFilter = { max: TAP_DEFAULT_MAX, durationMs: TAP_DEFAULT_DURATION_MS };
  const dest = q.get('destination');
  if (dest) f.destination = dest;
  const path = q.get('path');
  if (path) f.pathPrefix = path;
  const status = q.get('status');
  if (status) {
    const cls = /^([1-5])xx$/i.exec(status);
    if (cls !== null) f.statusClass = Number(cls[1]) * 100;
    else if (/^[1-5][0-9][0-9]$/.test(status)) f.statusExact = Number(status);
    else return `bad status "${status}": use 5xx or 503`;
  }
  const int = (name: string, dflt: number, max: number): number | string => {
    const v = q.get(name);
    if (v === null || v === '') return dflt;
    const n = Number(v);
    return Number.isInteger(n) && n > 0 ? Math.min(n, max) : `bad ${name} "${v}"`;
  };
  const max = int('max', TAP_DEFAULT_MAX, TAP_MAX_MAX);
  if (typeof max === 'string') return max;
  const duration = int('duration', TAP_DEFAULT_DURATION_MS, TAP_MAX_DURATION_MS);
  if (typeof duration === 'string') return duration;
  f.max = max;
  f.durationMs = duration;
  return f;
}

class Subscriber {
  sent = 0;
  dropped = 0;
  timer: NodeJS.Timeout | undefined;
  constructor(
    readonly filter: TapFilter,
    readonly res: ServerResponse,
  ) {}
}

export class TapHub implements ExchangeObserver {
  /** The one check on the request path. */
  private active = false;
  private subs: Subscriber[] = [];

  /** Number of open tap streams. */
  get subscribers(): number {
    return this.subs.length;
  }

  onStart(_ex: Exchange, _upstreamHeaders: HeaderBag): void {}

  onComplete(ex: Exchange): void {
    if (!this.active) return;
    let line: string | undefined;
    for (const s of this.subs) {
      if (!matches(s.filter, ex)) continue;
      // Drop rather than buffer for a client that is not reading.
      if (s.res.writableNeedDrain) {
        s.dropped++;
        continue;
      }
      line ??= JSON.stringify(tapEvent(ex)) + '\n';
      s.res.write(line);
      if (++s.sent >= s.filter.max) this.end(s);
    }
  }

  /** Serves GET /tap as a chunked NDJSON stream until max events, duration, or the client leaves. */
  handleTapRequest(req: IncomingMessage, res: ServerResponse): void {
    const f = parseTapQuery(req.url ?? '/tap');
    if (typeof f === 'string') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(f + '\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    // Send headers now so the client knows the tap is live before any event.
    res.flushHeaders();
    const s = new Subscriber(f, res);
    s.timer = setTimeout(() => this.end(s), f.durationMs);
    res.once('close', () => this.remove(s));
    this.subs = [...this.subs, s];
    this.active = true;
  }

  /** Ends every open stream (proxy shutdown). */
  closeAll(): void {
    for (const s of this.subs) this.end(s);
  }

  private end(s: Subscriber): void {
    this.remove(s);
    if (!s.res.writableEnded) s.res.end();
  }

  private remove(s: Subscriber): void {
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
    // Copy-on-write: onComplete may be iterating the old array.
    const next = this.subs.filter((x) => x !== s);
    if (next.length === this.subs.length) return;
    this.subs = next;
    this.active = next.length > 0;
  }
}
