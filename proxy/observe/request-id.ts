// x-request-id: keep the caller's id so logs of every hop correlate, otherwise
// mint a UUIDv4. crypto.randomUUID() draws from an internal entropy cache, so
// no pooling of our own is needed. Unlike Envoy we do not pack the trace
// decision into the id (Envoy's pack_trace_reason): ids pass through unchanged.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange } from '../exchange/index.js';
import type { HeaderBag } from './b3.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/** The incoming x-request-id unchanged (first one if repeated), else a fresh UUIDv4. */
export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const v = headers[REQUEST_ID_HEADER];
  if (typeof v === 'string' && v !== '') return v;
  if (Array.isArray(v) && v[0] !== undefined && v[0] !== '') return v[0];
  return randomUUID();
}

/** Sets ex.requestId once (idempotent) and, when given, forwards it upstream. */
export function ensureRequestId(ex: Exchange, upstreamHeaders?: HeaderBag): string {
  if (ex.requestId === '') ex.requestId = requestIdFrom(ex.req.headers);
  if (upstreamHeaders !== undefined) upstreamHeaders[REQUEST_ID_HEADER] = ex.requestId;
  return ex.requestId;
}
