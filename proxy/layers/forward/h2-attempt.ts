// One upstream try over HTTP/2 (node:http2 client stream on the endpoint's
// shared connections). Same contract as the undici Attempt, plus trailers:
// gRPC carries its status there. Cancelling sends RST_STREAM(CANCEL), so a
// client's cancelled call cancels the upstream stream too.
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import type { Endpoint } from '../../upstream/endpoint.js';
import { toH2Headers } from '../../upstream/h2-sessions.js';
import type { AttemptOwner, UpstreamAttempt } from './upstream-attempt.js';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = constants;

function onResponse(this: ClientHttp2Stream & { [OWNER]?: H2Attempt }, headers: IncomingHttpHeaders, flags: number): void {
  this[OWNER]?.onResponse(headers, flags);
}
function onData(this: ClientHttp2Stream & { [OWNER]?: H2Attempt }, chunk: Buffer): void {
  this[OWNER]?.onData(chunk);
}
function onTrailers(this: ClientHttp2Stream & { [OWNER]?: H2Attempt }, trailers: IncomingHttpHeaders): void {
  const a = this[OWNER];
  if (a !== undefined) a.trailers = trailers;
}
function onEnd(this: ClientHttp2Stream & { [OWNER]?: H2Attempt }): void {
  this[OWNER]?.onEnd();
}
function onClose(this: ClientHttp2Stream & { [OWNER]?: H2Attempt }): void {
  this[OWNER]?.onClose();
}
function onError(this: ClientHttp2Stream & { [OWNER]?: H2Attempt }, err: Error & { code?: string; cause?: unknown }): void {
  // A stream queued on a connection that failed to open is cancelled "caused
  // by" the connect error (ECONNREFUSED, our connect timeout): that cause is
  // the failure (UF, retriable as connect-failure), not a reset of the stream.
  const cause = err.code === 'ERR_HTTP2_STREAM_CANCEL' ? err.cause : undefined;
  this[OWNER]?.fail(cause instanceof Error ? cause : err);
}
/** --stream-idle-timeout on the upstream stream: read as undici's idle timers are (504 SI, or a gRPC status mid-stream). */
function onIdle(this: ClientHttp2Stream & { [OWNER]?: H2Attempt }): void {
  this[OWNER]?.fail(Object.assign(new Error('upstream stream idle timeout'), { code: 'UND_ERR_BODY_TIMEOUT' }));
  if (!this.closed) this.close(NGHTTP2_CANCEL);
}
/** The request body has been sent: forward the caller's trailers (or none: an empty END_STREAM). */
function onWantTrailers(this: ClientHttp2Stream & { [OWNER]?: H2Attempt }): void {
  const a = this[OWNER];
  a?.armIdle();
  const t = a?.owner.requestTrailers();
  try {
    this.sendTrailers(t ?? {});
  } catch {
    // node refuses a trailer it may not send (a pseudo-header): end without them.
    this.close();
  }
}
const OWNER = Symbol('meshlet.h2attempt');

export class H2Attempt implements UpstreamAttempt {
  readonly owner: AttemptOwner;
  readonly endpoint: Endpoint;
  committed = false;
  cancelled = false;
  status = 0;
  trailers: IncomingHttpHeaders | undefined;
  #stream: ClientHttp2Stream | undefined;
  #body: Readable | undefined;
  #ended = false;
  #resume: (() => void) | undefined;

  constructor(owner: AttemptOwner, endpoint: Endpoint) {
    this.owner = owner;
    this.endpoint = endpoint;
  }

  start(method: string, path: string, headers: Record<string, string | string[]>, body: Buffer | Readable | null): void {
    let stream: ClientHttp2Stream;
    try {
      // With a body, the stream waits for trailers: a gRPC client stream may end with some.
      stream = this.endpoint.h2.request(toH2Headers(method, path, headers), body === null, body !== null);
    } catch (err) {
      queueMicrotask(() => this.fail(err as Error));
      return;
    }
    this.#stream = stream;
    (stream as ClientHttp2Stream & { [OWNER]?: H2Attempt })[OWNER] = this;
    stream.on('response', onResponse);
    stream.on('trailers', onTrailers);
    stream.on('end', onEnd);
    stream.on('close', onClose);
    stream.on('error', onError);
    stream.on('timeout', onIdle);
    if (body === null) return this.armIdle();
    stream.once('wantTrailers', onWantTrailers);
    if (Buffer.isBuffer(body)) {
      stream.end(body);
      return;
    }
    // Streaming request (client-streaming/bidi gRPC): pipe applies backpressure to the caller.
    const readable = body as Readable;
    this.#body = readable;
    readable.pipe(stream);
  }

  /**
   * Starts the upstream stream-idle timer once the whole request is sent (as
   * undici's headers timer): a caller still streaming its request is the
   * downstream timer's business (408 SI there, as Envoy).
   */
  armIdle(): void {
    const ms = this.endpoint.h2.streamIdleTimeoutMs;
    if (ms > 0 && this.#stream !== undefined && !this.#stream.closed) this.#stream.setTimeout(ms);
  }

  commit(): void {
    this.committed = true;
  }

  abort(_reason: Error): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.#detach();
    const s = this.#stream;
    if (s !== undefined && !s.closed) s.close(NGHTTP2_CANCEL);
  }

  get resumer(): () => void {
    return (this.#resume ??= () => this.#stream?.resume());
  }

  /** @internal stream event trampolines */
  onResponse(headers: IncomingHttpHeaders, _flags: number): void {
    if (this.cancelled) return;
    const status = Number(headers[':status']);
    if (status < 200) return;
    this.status = status;
    delete headers[':status'];
    this.#stream!.on('data', onData);
    this.owner.attemptHeaders(this, status, headers);
  }

  onData(chunk: Buffer): void {
    if (this.cancelled || !this.committed) return;
    if (!this.owner.attemptData(this, chunk)) this.#stream!.pause();
  }

  onEnd(): void {
    if (this.cancelled || this.#ended) return;
    // node ends the readable side when the connection dies too (EOF: the
    // upstream process was killed), with a non-zero RST code already set; a
    // real END_STREAM leaves it unset or NO_ERROR. That is a reset, not a response.
    const rst = this.#stream!.rstCode;
    if (rst !== undefined && rst !== 0) return this.onClose();
    this.#ended = true;
    if (this.status === 0) return this.fail(Object.assign(new Error('stream ended without a response'), { code: 'ERR_HTTP2_STREAM_ERROR' }));
    this.owner.attemptEnd(this, this.trailers);
  }

  onClose(): void {
    if (this.cancelled || this.#ended) return;
    const code = this.#stream?.rstCode ?? 0;
    // REFUSED_STREAM: the server never processed it (safe to retry, like a connect failure).
    const err = Object.assign(new Error(`upstream stream closed (RST_STREAM code ${code})`), {
      code: code === NGHTTP2_REFUSED_STREAM ? 'ERR_HTTP2_REFUSED_STREAM' : 'ERR_HTTP2_STREAM_RESET',
    });
    this.fail(err);
  }

  fail(err: Error): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.#detach();
    this.owner.attemptError(this, err);
  }

  #detach(): void {
    const b = this.#body;
    if (b !== undefined && this.#stream !== undefined) b.unpipe(this.#stream);
  }
}
