// The contract between the pipeline and one upstream try, whichever protocol
// carries it (undici for HTTP/1.1, node:http2 for HTTP/2).
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Endpoint } from '../../upstream/endpoint.js';

export interface AttemptOwner {
  /** Response headers arrived. The owner calls `attempt.commit()` to stream the body to the client, or `attempt.abort()` to retry. */
  attemptHeaders(a: UpstreamAttempt, status: number, headers: IncomingHttpHeaders): void;
  /** A chunk of a committed response. Returns false to ask for backpressure. */
  attemptData(a: UpstreamAttempt, chunk: Buffer): boolean;
  /** The response is complete; `trailers` when the upstream sent any (gRPC status lives there). */
  attemptEnd(a: UpstreamAttempt, trailers: IncomingHttpHeaders | undefined): void;
  attemptError(a: UpstreamAttempt, err: Error): void;
  /** The caller's request trailers once its body has ended (gRPC client streams may send some); undefined = none. Read by HTTP/2 attempts only. */
  requestTrailers(): IncomingHttpHeaders | undefined;
  /** The upstream switched protocols (101): `socket` now carries the upgraded stream. Only for attempts started with `upgrade`. */
  attemptUpgrade(a: UpstreamAttempt, status: number, headers: IncomingHttpHeaders, socket: Duplex): void;
}

/** One upstream try, over undici (HTTP/1.1) or node:http2 (H2Attempt). */
export interface UpstreamAttempt {
  readonly endpoint: Endpoint;
  readonly committed: boolean;
  readonly cancelled: boolean;
  /** `upgrade`: HTTP/1.1 protocol switch (undici Attempt only; the pipeline never asks an H2Attempt for one). */
  start(method: string, path: string, headers: Record<string, string | string[]>, body: Buffer | Readable | null, upgrade: string | null): void;
  commit(): void;
  abort(reason: Error): void;
  readonly resumer: () => void;
}

