// The only place that talks to undici. One Attempt per upstream try: it is the
// undici dispatch handler, and reports to its owner (the request pipeline),
// which decides whether to commit the response to the client or retry.
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Endpoint } from '../../upstream/endpoint.js';

export type { AttemptOwner, UpstreamAttempt } from './upstream-attempt.js';
import type { AttemptOwner, UpstreamAttempt } from './upstream-attempt.js';
export { H2Attempt } from './h2-attempt.js';

/** Classifies a transport error the way retries and response flags need it. */
export function classifyError(err: Error): 'connect' | 'reset' | 'protocol' | 'aborted' | 'idle' {
  const code = (err as { code?: string }).code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'UND_ERR_CONNECT_TIMEOUT':
    // HTTP/2: the server refused the stream before processing it (RFC 9113 §8.7): never reached the app.
    case 'ERR_HTTP2_REFUSED_STREAM':
      return 'connect';
    case 'UND_ERR_ABORTED':
      return 'aborted';
    // undici's headers/body timers carry --stream-idle-timeout.
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'idle';
    case 'HPE_INVALID_CONSTANT':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_INFO':
    case 'ERR_HTTP2_ERROR':
    case 'ERR_HTTP2_STREAM_ERROR':
    case 'ERR_HTTP2_INVALID_HEADER_VALUE':
    case 'ERR_HTTP2_INVALID_CONNECTION_HEADERS':
      return 'protocol';
    default:
      if (code.startsWith('HPE_')) return 'protocol';
      // A TLS handshake or certificate verification that failed (ours: MESH_ERR_TLS_*, Node's and
      // OpenSSL's codes) never reached the app: a connect failure, flag UF, as Envoy reports it.
      return isTlsFailure(code) ? 'connect' : 'reset';
  }
}

const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

function isTlsFailure(code: string): boolean {
  return code.startsWith('MESH_ERR_TLS') || code === 'MESH_ERR_NO_WORKLOAD_CERT' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || CERT_CODES.has(code);
}

export class Attempt implements Dispatcher.DispatchHandler, UpstreamAttempt {
  readonly owner: AttemptOwner;
  readonly endpoint: Endpoint;
  controller: Dispatcher.DispatchController | undefined;
  committed = false;
  /** Set once this attempt stopped mattering (aborted for retry, timed out, client gone). */
  cancelled = false;
  #resume: (() => void) | undefined;

  constructor(owner: AttemptOwner, endpoint: Endpoint) {
    this.owner = owner;
    this.endpoint = endpoint;
  }

  /**
   * `upgrade` (e.g. `websocket`) asks the upstream to switch protocols: undici
   * adds `Connection: upgrade` and `Upgrade`, and a 101 arrives as
   * attemptUpgrade; any other answer is an ordinary response.
   */
  start(method: string, path: string, headers: Record<string, string | string[]>, body: Buffer | Readable | null, upgrade: string | null): void {
    try {
      this.endpoint.pool.dispatch({ method, path, headers, body, idempotent: false, blocking: upgrade !== null, upgrade }, this);
    } catch (err) {
      // undici validates synchronously (a header value it refuses, a destroyed pool):
      // report it like any other failed attempt, never as a thrown error.
      queueMicrotask(() => this.onResponseError(undefined as unknown as Dispatcher.DispatchController, err as Error));
    }
  }

  /** Stream the rest of this response to the client. */
  commit(): void {
    this.committed = true;
  }

  /** Stop this attempt (retry, deadline, client gone). Safe to call more than once. */
  abort(reason: Error): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const c = this.controller;
    if (c !== undefined && !c.aborted) c.abort(reason);
  }

  /** Called by the owner when the client's socket drained after backpressure. */
  get resumer(): () => void {
    // Made on first backpressure only: most responses never need it.
    return (this.#resume ??= () => this.controller?.resume());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancelled) controller.abort(new Error('cancelled'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (this.cancelled) return;
    if (status < 200) return; // 1xx informational: wait for the final response
    this.controller = controller;
    this.owner.attemptHeaders(this, status, headers);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    if (this.cancelled) {
      socket.destroy();
      return;
    }
    this.controller = controller;
    this.committed = true;
    this.owner.attemptUpgrade(this, status, headers, socket);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.cancelled || !this.committed) return;
    if (!this.owner.attemptData(this, chunk)) controller.pause();
  }

  onResponseEnd(_c: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    if (this.cancelled) return;
    let any: IncomingHttpHeaders | undefined;
    for (const _ in trailers) {
      any = trailers;
      break;
    }
    this.owner.attemptEnd(this, any);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.owner.attemptError(this, err);
  }
}
