// Our own B3 codec. @opentelemetry/propagator-b3 pads 64-bit trace ids, drops
// the parent span id and turns "defer" into an explicit deny (see
// shared/reference/anchors.md §2c); a proxy in the middle of a Zipkin/Envoy
// mesh must pass those through unchanged, so we parse the wire format here.
import type { IncomingHttpHeaders } from 'node:http';
import type { TraceContext } from '../exchange/index.js';
import { padTraceId } from './ids.js';

export type { TraceContext } from '../exchange/index.js';

/** Which formats to write on the upstream request. */
export interface InjectMode {
  /** `x-b3-traceid` / `x-b3-spanid` / `x-b3-parentspanid` / `x-b3-sampled` / `x-b3-flags` (Envoy/Zipkin default). */
  readonly multi: boolean;
  /** The single `b3` header. */
  readonly single: boolean;
  /** W3C `traceparent` (trace id padded to 128 bits there only). */
  readonly w3c: boolean;
}

export type HeaderBag = Record<string, string | string[]>;

// Compiled once; `.test` on a literal regex does not allocate.
const TRACE_ID = /^(?:[0-9a-f]{16}){1,2}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO = /^0+$/;

function validTraceId(s: string): boolean {
  return TRACE_ID.test(s) && !ZERO.test(s);
}
function validSpanId(s: string): boolean {
  return SPAN_ID.test(s) && !ZERO.test(s);
}

/** B3 says the first value wins when a header is duplicated; Node joins duplicates of unknown headers with ", ". */
function first(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const s = typeof v === 'string' ? v : v[0];
  if (s === undefined) return undefined;
  const comma = s.indexOf(',');
  return (comma === -1 ? s : s.slice(0, comma)).trim();
}

/** A decision without ids (`b3: 0`, lone `x-b3-sampled`): traceId/spanId are ''. */
function decisionOnly(sampled: boolean | undefined, debug: boolean): TraceContext {
  return { traceId: '', spanId: '', parentSpanId: undefined, sampled: debug ? true : sampled, debug };
}

function parseSingle(v: string): TraceContext | undefined {
  // Sampling state alone: `b3: 0` (deny), `1`, `d`.
  if (v.length === 1) {
    if (v === '0') return decisionOnly(false, false);
    if (v === '1') return decisionOnly(true, false);
    if (v === 'd') return decisionOnly(true, true);
    return undefined;
  }
  const d1 = v.indexOf('-');
  if (d1 === -1) return undefined;
  const traceId = v.slice(0, d1);
  const d2 = v.indexOf('-', d1 + 1);
  const spanId = d2 === -1 ? v.slice(d1 + 1) : v.slice(d1 + 1, d2);
  if (!validTraceId(traceId) || !validSpanId(spanId)) return undefined;
  let sampled: boolean | undefined;
  let debug = false;
  let parentSpanId: string | undefined;
  if (d2 !== -1) {
    const d3 = v.indexOf('-', d2 + 1);
    const state = d3 === -1 ? v.slice(d2 + 1) : v.slice(d2 + 1, d3);
    if (state === '1') sampled = true;
    else if (state === '0') sampled = false;
    else if (state === 'd') {
      sampled = true;
      debug = true;
    } else return undefined;
    if (d3 !== -1) {
      const parent = v.slice(d3 + 1);
      // An invalid parent only loses the parent, not the whole context.
      if (validSpanId(parent)) parentSpanId = parent;
    }
  }
  return { traceId, spanId, parentSpanId, sampled, debug };
}

function parseSampled(s: string | undefined): boolean | undefined {
  if (s === undefined) return undefined;
  if (s === '1' || s === 'true' || s === 'True') return true;
  if (s === '0' || s === 'false' || s === 'False') return false;
  return undefined;
}

/**
 * Reads the incoming B3 context. Single `b3` wins over the multi headers.
 * Returns undefined when there is no usable context (absent or invalid ids
 * without a decision). A context with traceId '' carries only a decision.
 * `sampled: undefined` means the caller deferred; `debug` implies sampled.
 */
export function extractB3(headers: IncomingHttpHeaders): TraceContext | undefined {
  const single = first(headers['b3']);
  if (single !== undefined && single !== '') {
    const ctx = parseSingle(single);
    if (ctx !== undefined) return ctx;
  }
  const debug = first(headers['x-b3-flags']) === '1';
  const sampled = debug ? true : parseSampled(first(headers['x-b3-sampled']));
  const traceId = first(headers['x-b3-traceid']);
  const spanId = first(headers['x-b3-spanid']);
  if (traceId !== undefined && spanId !== undefined && validTraceId(traceId) && validSpanId(spanId)) {
    const p = first(headers['x-b3-parentspanid']);
    const parentSpanId = p !== undefined && validSpanId(p) ? p : undefined;
    return { traceId, spanId, parentSpanId, sampled, debug };
  }
  // Invalid or missing ids: keep the decision (a deny must still be honoured).
  if (sampled !== undefined || debug) return decisionOnly(sampled, debug);
  return undefined;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const HIGH_ZERO = '0000000000000000';

/** W3C fallback for callers that only speak traceparent (Envoy's B3-with-W3C mode). */
export function extractW3C(headers: IncomingHttpHeaders): TraceContext | undefined {
  const v = first(headers['traceparent']);
  if (v === undefined) return undefined;
  const m = TRACEPARENT.exec(v);
  if (m === null) return undefined;
  const full = m[1] as string;
  const spanId = m[2] as string;
  if (ZERO.test(full) || ZERO.test(spanId)) return undefined;
  // A 64-bit id padded by a B3 hop goes back to 64 bits so B3 stays byte-identical.
  const traceId = full.startsWith(HIGH_ZERO) ? full.slice(16) : full;
  const sampled = (parseInt(m[3] as string, 16) & 1) === 1;
  return { traceId, spanId, parentSpanId: undefined, sampled, debug: false };
}

function del(headers: HeaderBag, name: string): void {
  // Only delete what is there: `delete` of a missing key still costs a shape change check.
  if (headers[name] !== undefined) delete headers[name];
}

/**
 * Writes `ctx` onto outgoing headers in the chosen formats and removes stale
 * B3 headers of the formats not written, so an upstream never sees two
 * disagreeing contexts. Defer stays absent; debug is sent as `x-b3-flags: 1`
 * without `x-b3-sampled`.
 */
export function injectB3(ctx: TraceContext, headers: HeaderBag, mode: InjectMode): void {
  const hasIds = ctx.traceId !== '';
  if (mode.multi) {
    if (hasIds) {
      headers['x-b3-traceid'] = ctx.traceId;
      headers['x-b3-spanid'] = ctx.spanId;
    } else {
      del(headers, 'x-b3-traceid');
      del(headers, 'x-b3-spanid');
    }
    if (hasIds && ctx.parentSpanId !== undefined) headers['x-b3-parentspanid'] = ctx.parentSpanId;
    else del(headers, 'x-b3-parentspanid');
    if (ctx.debug) {
      headers['x-b3-flags'] = '1';
      del(headers, 'x-b3-sampled');
    } else {
      del(headers, 'x-b3-flags');
      if (ctx.sampled === undefined) del(headers, 'x-b3-sampled');
      else headers['x-b3-sampled'] = ctx.sampled ? '1' : '0';
    }
  } else {
    del(headers, 'x-b3-traceid');
    del(headers, 'x-b3-spanid');
    del(headers, 'x-b3-parentspanid');
    del(headers, 'x-b3-sampled');
    del(headers, 'x-b3-flags');
  }
  if (mode.single) {
    const state = ctx.debug ? 'd' : ctx.sampled === undefined ? '' : ctx.sampled ? '1' : '0';
    if (!hasIds) {
      if (state === '') del(headers, 'b3');
      else headers['b3'] = state;
    } else if (state === '') {
      // The format has no slot for a parent without a sampling state.
      headers['b3'] = ctx.traceId + '-' + ctx.spanId;
    } else if (ctx.parentSpanId === undefined) {
      headers['b3'] = ctx.traceId + '-' + ctx.spanId + '-' + state;
    } else {
      headers['b3'] = ctx.traceId + '-' + ctx.spanId + '-' + state + '-' + ctx.parentSpanId;
    }
  } else {
    del(headers, 'b3');
  }
  if (mode.w3c && hasIds) {
    headers['traceparent'] = '00-' + padTraceId(ctx.traceId) + '-' + ctx.spanId + (ctx.sampled === true || ctx.debug ? '-01' : '-00');
  }
}
