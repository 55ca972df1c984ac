// A gRPC response held back from the caller until its status is known. Only
// when the route retries on gRPC statuses and the request can be replayed:
// the status of a normal gRPC response arrives in trailers, after the body,
// and once anything reached the caller a retry is impossible. Only a response
// with no message yet is held (headers, then a failing status in trailers): the
// first message releases it at once, so a stream that sends one message and
// then waits (a watch, a subscription) is never stalled here, and neither is a
// unary answer past the buffer limit.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export class HeldResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly chunks: Buffer[] = [];
  #size = 0;

  constructor(status: number, headers: IncomingHttpHeaders) {
    this.status = status;
    this.headers = headers;
  }

  /** Keeps `chunk`; false when the response must be released now. */
  push(chunk: Buffer, messagesSeen: number, limit: number): boolean {
    this.chunks.push(chunk);
    this.#size += chunk.length;
    return messagesSeen === 0 && this.#size <= limit;
  }
}

const STATUS_FIELDS = ['grpc-status', 'grpc-message', 'grpc-status-details-bin'] as const;

/**
 * A trailers-only gRPC answer forwarded to an HTTP/2 caller: node's
 * compatibility API cannot end a stream on HEADERS, so the status fields move
 * to trailers after an empty body, which gRPC clients read identically.
 */
export function moveGrpcStatusToTrailers(h: OutgoingHttpHeaders): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const k of STATUS_FIELDS) {
    const v = h[k];
    if (v === undefined) continue;
    (out ??= {})[k] = String(v);
    delete h[k];
  }
  return out;
}
