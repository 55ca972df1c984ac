// One upstream try over HTTP/1.1 with node:http's client (its llhttp is native
// code: no WebAssembly instance, no wasm compile). Same contract as the undici
// Attempt; errors carry the codes classifyError reads.
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Endpoint } from '../../upstream/endpoint.js';
import type { AttemptOwner, UpstreamAttempt } from './upstream-attempt.js';
import { classifyError } from './index.js';

const OWNER = Symbol('meshlet.h1attempt');
type Req = http.ClientRequest & { [OWNER]?: Http1Attempt };

/** Duplicate response headers as arrays, as undici hands them (set-cookie and any other repeated name). */
function headersOf(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    const v = raw[i + 1]!;
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (typeof prev === 'string') out[k] = [prev, v];
    else prev.push(v);
  }
  return out as IncomingHttpHeaders;
}

function onResponse(this: Req, res: IncomingMessage): void {
  this[OWNER]?.onResponse(res);
}
function onUpgrade(this: Req, res: IncomingMessage, socket: Duplex, head: Buffer): void {
  const a = this[OWNER];
  if (a === undefined) return void socket.destroy();
  if (head.length > 0) socket.unshift(head);
  a.onUpgrade(res, socket);
}
function onReqError(this: Req, err: Error & { code?: string }): void {
  const a = this[OWNER];
  if (a === undefined) return;
  const code = err.code ?? '';
  // Any failure once TCP is up and before the TLS handshake is done (a STRICT peer refusing us,
  // a plaintext port, a peer that is not a sidecar) is a TLS failure: UF, as the undici connector
  // reported it. TLS verdicts with their own codes (certificate, SAN) keep them: already connect failures.
  if (a.handshaking && classifyError(err) !== 'connect') {
    return a.fail(Object.assign(new Error(`TLS handshake with ${a.endpoint.id} failed: ${err.message}`), { code: 'MESH_ERR_TLS_HANDSHAKE' }));
  }
  // After the handshake, a TLS alert (TLS 1.3: a server refusing our certificate once it read
  // the request) closes the connection under the request: an upstream reset (UC), as undici saw it.
  if (a.secured && (code === 'EPROTO' || code.startsWith('ERR_SSL_'))) {
    return a.fail(Object.assign(new Error(`upstream TLS connection closed: ${err.message}`), { code: 'ECONNRESET' }));
  }
  a.fail(err);
}
/** A new connection gets the connect timeout (TCP connect, and the TLS handshake on a TLS endpoint); a reused one none. */
function onSocket(this: Req, socket: Socket): void {
  const a = this[OWNER];
  if (a === undefined) return;
  const tls = (socket as TLSSocket).encrypted === true;
  const secured = tls && (socket as TLSSocket & { _secureEstablished?: boolean })._secureEstablished === true;
  a.secured = secured;
  if (!socket.connecting && (!tls || secured)) return;
  if (tls) {
    if (socket.connecting) socket.once('connect', () => (a.handshaking = !a.secured));
    else a.handshaking = true;
  }
  const ms = a.endpoint.connectTimeoutMs;
  const timer = setTimeout(() => {
    a.handshaking = false;
    socket.destroy(Object.assign(new Error(`connect timeout after ${ms} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
  }, ms);
  socket.once(tls ? 'secureConnect' : 'connect', () => {
    clearTimeout(timer);
    a.handshaking = false;
    a.secured = tls;
  });
  socket.once('close', () => clearTimeout(timer));
}
function onTimeout(this: Req): void {
  const a = this[OWNER];
  const code = a !== undefined && a.status === 0 ? 'UND_ERR_HEADERS_TIMEOUT' : 'UND_ERR_BODY_TIMEOUT';
  this.destroy(Object.assign(new Error('upstream stream idle timeout'), { code }));
}
function onData(this: IncomingMessage & { [OWNER]?: Http1Attempt }, chunk: Buffer): void {
  this[OWNER]?.onData(chunk);
}
function onEnd(this: IncomingMessage & { [OWNER]?: Http1Attempt }): void {
  this[OWNER]?.onEnd();
}
function onResError(this: IncomingMessage & { [OWNER]?: Http1Attempt }, err: Error & { code?: string }): void {
  this[OWNER]?.fail(err.code === undefined ? Object.assign(err, { code: 'ECONNRESET' }) : err);
}

export class Http1Attempt implements UpstreamAttempt {
  readonly owner: AttemptOwner;
  readonly endpoint: Endpoint;
  committed = false;
  cancelled = false;
  status = 0;
  /** A new TLS connection is still handshaking (errors then are TLS failures). */
  handshaking = false;
  /** This attempt's connection is TLS and its handshake completed. */
  secured = false;
  #req: Req | undefined;
  #res: (IncomingMessage & { [OWNER]?: Http1Attempt }) | undefined;
  #body: Readable | undefined;
  #resume: (() => void) | undefined;
  /** The response ended: a later socket error belongs to no one. */
  #done = false;

  constructor(owner: AttemptOwner, endpoint: Endpoint) {
    this.owner = owner;
    this.endpoint = endpoint;
  }

  start(method: string, path: string, headers: Record<string, string | string[]>, body: Buffer | Readable | null, upgrade: string | null): void {
    const ep = this.endpoint;
    let req: Req;
    try {
      const h = upgrade === null ? headers : { ...headers, connection: 'upgrade', upgrade };
      req = http.request({ agent: ep.agent, host: ep.address, port: ep.port, method, path, headers: h });
    } catch (err) {
      // node validates synchronously (a header value or path it refuses): a failed attempt, never a throw.
      queueMicrotask(() => this.fail(err as Error));
      return;
    }
    this.#req = req;
    req[OWNER] = this;
    req.on('response', onResponse);
    req.on('error', onReqError);
    req.on('socket', onSocket);
    if (upgrade !== null) req.on('upgrade', onUpgrade);
    const idle = ep.streamIdleMs;
    if (idle > 0) req.setTimeout(idle, onTimeout);
    if (body === null) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      this.#body = body;
      body.once('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  }

  commit(): void {
    this.committed = true;
  }

  abort(_reason: Error): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.#detach();
    this.#req?.destroy();
  }

  get resumer(): () => void {
    return (this.#resume ??= () => this.#res?.resume());
  }

  /** @internal event trampolines */
  onResponse(res: IncomingMessage & { [OWNER]?: Http1Attempt }): void {
    if (this.cancelled) return void res.destroy();
    this.status = res.statusCode ?? 0;
    this.#res = res;
    res[OWNER] = this;
    res.on('data', onData);
    res.on('end', onEnd);
    res.on('error', onResError);
    res.on('aborted', () => this.fail(Object.assign(new Error('upstream closed the response early'), { code: 'ECONNRESET' })));
    this.owner.attemptHeaders(this, this.status, headersOf(res.rawHeaders));
  }

  onUpgrade(res: IncomingMessage, socket: Duplex): void {
    if (this.cancelled) return void socket.destroy();
    this.committed = true;
    this.#req?.setTimeout(0);
    this.owner.attemptUpgrade(this, res.statusCode ?? 101, headersOf(res.rawHeaders), socket);
  }

  onData(chunk: Buffer): void {
    if (this.cancelled || !this.committed) return;
    if (!this.owner.attemptData(this, chunk)) this.#res!.pause();
  }

  onEnd(): void {
    if (this.cancelled || this.#done) return;
    this.#done = true;
    const raw = this.#res!.rawTrailers;
    this.owner.attemptEnd(this, raw.length > 0 ? headersOf(raw) : undefined);
  }

  fail(err: Error): void {
    if (this.cancelled || this.#done) return;
    this.cancelled = true;
    this.#detach();
    this.#req?.destroy();
    this.owner.attemptError(this, err);
  }

  #detach(): void {
    const b = this.#body;
    if (b !== undefined && this.#req !== undefined) b.unpipe(this.#req);
  }
}
