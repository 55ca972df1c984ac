// Local replies to gRPC callers are gRPC: HTTP 200, `content-type:
// application/grpc`, and the failure as grpc-status/grpc-message, never an
// HTML or text 503 a gRPC client cannot read. The status follows Envoy's
// httpToGrpcStatus, except that a timeout is DEADLINE_EXCEEDED (the caller's
// deadline semantics) and an injected fault uses the configured grpcStatus.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Flag } from './flags.js';
import type { MeshletError } from './index.js';

const UNAVAILABLE = 14;

/** gRPC status for a local reply. */
export function grpcStatusFor(e: MeshletError): number {
  if (e.grpcStatus >= 0) return e.grpcStatus;
  if (e.flag & Flag.UT) return 4; // DEADLINE_EXCEEDED
  switch (e.status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return UNAVAILABLE;
    default:
      return 2; // UNKNOWN
  }
}

/** grpc-message is percent-encoded (gRPC HTTP/2 spec): printable ASCII except `%` passes through. */
export function encodeGrpcMessage(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  return out;
}

/**
 * Writes the gRPC local reply. Status and message travel as trailers after an
 * empty body, which every gRPC client reads the same way as a trailers-only
 * response (node:http2's compatibility API cannot end the stream on HEADERS).
 * Over HTTP/1.1 (a caller that cannot receive trailers) they stay in the headers.
 */
export function writeGrpcReply(res: ServerResponse, e: MeshletError, extra: OutgoingHttpHeaders): number {
  const code = grpcStatusFor(e);
  const status = { 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(e.message) };
  const h2 = (res.req as { httpVersionMajor?: number } | undefined)?.httpVersionMajor === 2;
  res.writeHead(200, h2 ? { 'content-type': 'application/grpc', ...extra } : { 'content-type': 'application/grpc', ...extra, ...status });
  if (h2) res.addTrailers(status);
  res.end();
  return code;
}

/**
 * Ends a gRPC response that already started (headers, maybe messages) with
 * the failure as grpc-status/grpc-message trailers; the caller checks it is
 * cut between messages. Returns the status, or -1 when node refused the
 * trailers and the stream was reset instead.
 */
export function endGrpcStream(res: ServerResponse, e: MeshletError): number {
  const code = grpcStatusFor(e);
  try {
    res.addTrailers({ 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(e.message) });
  } catch {
    res.destroy();
    return -1;
  }
  res.end();
  return code;
}
