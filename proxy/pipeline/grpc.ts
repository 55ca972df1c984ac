// gRPC over the HTTP pipeline: recognising a call, reading its status from
// headers (trailers-only responses) or trailers, the client's grpc-timeout,
// and Envoy's gRPC → HTTP status mapping that outlier detection counts.
import type { IncomingHttpHeaders } from 'node:http';

/** `application/grpc`, `application/grpc+proto`, `application/grpc-web…` (not grpc-web: it needs a translating filter). */
export function isGrpcContentType(ct: string | string[] | undefined): boolean {
  return typeof ct === 'string' && ct.startsWith('application/grpc') && !ct.startsWith('application/grpc-web');
}

/** The grpc-status in a header block, or -1 when absent or malformed. */
export function grpcStatusOf(h: IncomingHttpHeaders | undefined): number {
  if (h === undefined) return -1;
  const v = h['grpc-status'];
  if (typeof v !== 'string' || v === '') return -1;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 16 ? n : -1;
}

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * The client's deadline from `grpc-timeout` (`<1-8 digits><H|M|S|m|u|n>`), in ms
 * rounded up (a 500 µs deadline is 1 ms, never 0 = "no timeout"); -1 when absent or malformed.
 */
export function grpcTimeoutMs(v: string | string[] | undefined): number {
  if (typeof v !== 'string' || v.length < 2 || v.length > 9) return -1;
  const unit = TIMEOUT_UNIT_MS[v[v.length - 1]!];
  if (unit === undefined) return -1;
  const digits = v.slice(0, -1);
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return Math.max(1, Math.ceil(Number(digits) * unit));
}

/**
 * Counts length-prefixed gRPC messages in a byte stream split arbitrarily
 * into chunks (5-byte header: flag, 4-byte big-endian length). No copies.
 */
export class GrpcFrameCounter {
  messages = 0;
  /** Bytes still to skip of the current message body. */
  #skip = 0;
  /** Header bytes seen of the next message (0..4), and the length being assembled. */
  #hdr = 0;
  #len = 0;

  /** True between messages: a stream cut here loses no partial message. */
  get atBoundary(): boolean {
    return this.#skip === 0 && this.#hdr === 0;
  }

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, n - i);
        this.#skip -= take;
        i += take;
        continue;
      }
      // header byte #hdr: 0 is the compressed flag, 1..4 the length
      if (this.#hdr > 0) this.#len = this.#len * 256 + chunk[i]!;
      i++;
      if (++this.#hdr === 5) {
        this.messages++;
        this.#skip = this.#len;
        this.#hdr = 0;
        this.#len = 0;
      }
    }
  }
}
