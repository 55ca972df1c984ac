// THE REQUEST PATH. Read this file first: every request through a sidecar
// walks these steps, in this order:
//
//   observe (outermost: every outcome gets flags, timings, metrics, span, log)
//   → route      host → virtual host → first matching route → weighted destination
//                (an Upgrade request must name a protocol the route allows: 403 otherwise)
//   → fault      injected delay (counts against the deadline), then injected abort
//   → mirror     fire-and-forget copy to the shadow cluster
//   → deadline   one timer for the whole request, all attempts included
//   → retry {    per-try timeout, backoff, budget, previous-host avoidance
//       → pick   load balancer over available endpoints (panic mode ignores ejection)
//       → admit  circuit-breaker limits (503 UO)
//       → forward  undici, streaming both ways; an upgrade's 101 opens a Tunnel
//     }
//
// Each policy is a layer compiled once per route (proxy/layers/*); a route
// without a policy has `null` there and the step costs one comparison. Errors
// are MeshletErrors turned into replies only by errors/rescue.ts.
import { setForwardedClientCert } from '../identity/forwarded-client-cert.js';
import { peerIdentityOf } from '../identity/peer-identity.js';
import { ServerResponse, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Flag, MeshletError, errors } from '../errors/index.js';
import { rescue, FLAGS_HEADER } from '../errors/rescue.js';
import { endGrpcStream } from '../errors/grpc-reply.js';
import { flagsToString } from '../errors/flags.js';
import { forwardableResponseHeaders } from '../listener/hop-by-hop.js';
import { requestHash, generatedCookie } from '../layers/balance/index.js';
import { admitRequest, admitRetry } from '../layers/admit/index.js';
import { Attempt, H2Attempt, classifyError, type AttemptOwner, type UpstreamAttempt } from '../layers/forward/index.js';
import { Http1Attempt } from '../layers/forward/http1-attempt.js';

// MESHLET_UPSTREAM_HTTP1_CLIENT=node sends HTTP/1.1 upstream requests through node:http (native
// llhttp) instead of undici: peak RSS −6 MiB, idle −1.5 MiB, but ~25% more CPU per request in the
// same loaded run (issue 17 notes), so undici stays the default while throughput is the tighter target.
const HTTP1_NODE = process.env['MESHLET_UPSTREAM_HTTP1_CLIENT'] === 'node';
import { ReplayBody, type ReplayOwner } from '../layers/retry/index.js';
import { grpcToHttpStatus } from '../errors/grpc-status.js';
import { GrpcFrameCounter, grpcStatusOf, grpcTimeoutMs, isGrpcContentType } from './grpc.js';
import { HeldResponse, moveGrpcStatusToTrailers } from './held-response.js';
import type { CompiledDestination, CompiledRoute, Snapshot } from '../snapshot/index.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { Endpoint } from '../upstream/endpoint.js';
import { Exchange, type Direction, type ExchangeObserver, type ResilienceEvents } from '../exchange/index.js';
import type { OutcomeRecorder } from '../upstream/outcome-recorder.js';
import { parseTarget, applyHeaderOps, buildUpstreamRequest } from './request-target.js';
import { normalizeTargetPath, takeTimeoutHeaders } from '../layers/route/index.js';
import { writeLocalAction } from './local-action.js';
import { Tunnel, type TunnelOwner } from './tunnel.js';

export interface PipelineDeps {
  /** Current snapshot (outbound) — read once per request. */
  readonly snapshot: () => Snapshot | undefined;
  readonly observer: ExchangeObserver;
  readonly events: ResilienceEvents;
  readonly outlier: OutcomeRecorder;
  readonly rng: () => number;
  /** Largest request body buffered for retries and mirroring. */
  readonly bufferLimit: number;
  /** This workload's SPIFFE ID (the `By=` of x-forwarded-client-cert on inbound requests); absent = no identity. */
  readonly selfIdentity?: () => string | undefined;
}

/** How a pipeline finds the route: outbound from the snapshot, inbound a fixed route to the app. */
export type RouteResolver = (req: RequestState) => CompiledRoute | MeshletError;

const ABORTED = new Error('attempt abandoned');
const EMPTY = Buffer.alloc(0);
/** Marks "no body" for bodyComplete (a distinct object: a real empty body is a different Buffer). */
const EMPTY_BODY = Buffer.alloc(0);
const STATE = Symbol('meshlet.request');
type ResponseWithState = ServerResponse & { [STATE]?: RequestState };

// Timer and event callbacks are module-level functions that receive the request
// state as an argument: no closure is allocated per request.
function onResponseClose(this: ServerResponse): void {
  (this as ResponseWithState)[STATE]?.onClose();
}
function afterDelay(s: RequestState): void {
  s.afterDelay();
}
function retryNow(s: RequestState): void {
  s.retryNow();
}
function onPerTryTimeout(s: RequestState): void {
  s.onPerTryTimeout();
}
function onDeadline(s: RequestState): void {
  s.onDeadline();
}
function countRequestMessages(this: IncomingMessage, chunk: Buffer): void {
  const s = (this as IncomingMessage & { [STATE]?: RequestState })[STATE];
  if (s !== undefined) s.reqFrames!.push(chunk);
}

function endSocketOnFinish(this: ServerResponse): void {
  this.socket?.end();
}

function hasBody(req: IncomingMessage): boolean {
  // HTTP/2: a body unless the caller ended the stream with its HEADERS (no content-length needed).
  if (req.httpVersionMajor === 2) return !(req as unknown as Http2ServerRequest).stream.endAfterHeaders;
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Builds the node:http `upgrade` handler for one listener. An upgrade request
 * walks the same RequestState as any other; its replies are written through a
 * ServerResponse on the raw socket (so errors/rescue.ts stays the one writer),
 * and a 101 from the upstream turns the connection into a Tunnel.
 */
export function createUpgradeHandler(direction: Direction, deps: PipelineDeps, resolve: RouteResolver): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', endSocketOnFinish);
    const state = new RequestState(direction, req, res, deps);
    const raw = req.headers.upgrade ?? '';
    const comma = raw.indexOf(',');
    const protocol = (comma < 0 ? raw : raw.slice(0, comma)).trim().toLowerCase();
    // Envoy strips an h2c upgrade and serves the request as HTTP/1.1; node has
    // already stopped parsing at the headers, so only a bodiless one can be.
    if (protocol !== 'h2c' || hasBody(req)) {
      state.upgrade = protocol;
      state.client = socket;
      state.head = head;
    }
    state.run(resolve);
  };
}

/** Builds the node:http request handler for one listener. */
export function createPipeline(direction: Direction, deps: PipelineDeps, resolve: RouteResolver): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const state = new RequestState(direction, req, res, deps);
    state.run(resolve);
  };
}

export class RequestState implements AttemptOwner, TunnelOwner, ReplayOwner {
  readonly ex: Exchange;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly deps: PipelineDeps;
  snapshot: Snapshot | undefined;
  // The request as the route table reads it (RouteRequest): set once, no per-lookup object.
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  authority = '';
  /** Path without the query string, and the raw query (no leading `?`). */
  path = '';
  rawQuery = '';
  port = 80;
  route: CompiledRoute | undefined;
  dest: CompiledDestination | undefined;
  cluster: ClusterRuntime | undefined;
  upstreamHeaders: Record<string, string | string[]> = {};
  upstreamPath = '';
  /** The request body (streamed, with a bounded replay copy); undefined when there is none. */
  replay: ReplayBody | undefined;
  /** Caller spoke HTTP/2 (node:http2 compatibility request/response). */
  readonly h2: boolean;
  /** A gRPC call (content-type application/grpc*). */
  grpc = false;
  /** gRPC response held until its status is known, so a retriable status in trailers can still be retried. */
  held: HeldResponse | undefined;
  /** gRPC status fields of a trailers-only upstream response, sent to an HTTP/2 caller as trailers. */
  pendingTrailers: Record<string, string> | undefined;
  reqFrames: GrpcFrameCounter | undefined;
  resFrames: GrpcFrameCounter | undefined;
  hash: number | undefined;
  setCookie: string | undefined;
  attempt: UpstreamAttempt | undefined;
  lastEndpoint: Endpoint | undefined;
  retries = 0;
  deadline: NodeJS.Timeout | undefined;
  perTry: NodeJS.Timeout | undefined;
  /** The route's timeouts, or the app's x-envoy-upstream-rq-(per-try-)timeout-ms (outbound only). */
  timeoutMs = 0;
  perTryTimeoutMs = 0;
  done = false;
  /** The protocol an Upgrade request asks for (lowercase), null for an ordinary request. */
  upgrade: string | null = null;
  /** Upgrade requests: the client's socket and the bytes that followed the request head. */
  client: Duplex | undefined;
  head: Buffer | undefined;

  constructor(direction: Direction, req: IncomingMessage, res: ServerResponse, deps: PipelineDeps) {
    this.ex = new Exchange(direction, req, performance.now(), Date.now());
    this.req = req;
    this.res = res;
    this.deps = deps;
    this.method = this.ex.method;
    this.headers = req.headers;
    this.h2 = req.httpVersionMajor === 2;
    // Read the caller's verified identity while the connection is certainly
    // live: observers ask again once the request is over (cached per connection).
    if (direction === 'inbound') peerIdentityOf(this.ex.socket);
    if (isGrpcContentType(req.headers['content-type'])) {
      // Known before anything can fail: local replies to a gRPC caller are gRPC.
      this.grpc = true;
      this.ex.protocol = 'grpc';
      this.reqFrames = new GrpcFrameCounter();
      this.resFrames = new GrpcFrameCounter();
    }
  }

  // ------------------------------------------------------------- observe + route
  run(resolve: RouteResolver): void {
    const { ex, req, res } = this;
    // One shared listener per event, no closure per request: the state hangs off the response.
    (res as ResponseWithState)[STATE] = this;
    res.once('close', onResponseClose);
    this.snapshot = this.deps.snapshot();
    if (!parseTarget(this) || !normalizeTargetPath(this)) return this.fail(errors.badRequest('invalid request target'));
    const rid = req.headers['x-request-id'];
    ex.requestId = typeof rid === 'string' && rid !== '' ? rid : randomUUID();

    const route = resolve(this);
    if (route instanceof MeshletError) return this.fail(route);
    this.route = route;
    ex.routeName = route.name;
    if (this.upgrade !== null) {
      // Envoy's upgrade_configs: only what the route enables is tunnelled.
      if (!route.upgrades.has(this.upgrade)) return this.fail(errors.upgradeRefused(this.upgrade));
      if (hasBody(req)) return this.fail(errors.badRequest('an upgrade request cannot carry a body'));
      if (this.upgrade === 'websocket') ex.protocol = 'websocket';
    }
    if (route.kind !== 'forward') {
      this.done = true;
      return writeLocalAction(ex, res, route.model.action, this.path, this.rawQuery);
    }

    const dest = route.split!.next();
    const cluster = dest.cluster ?? dest.byPort?.get(this.port);
    if (cluster === undefined) return this.fail(errors.noHealthyUpstream(`${dest.host}:${this.port}`));
    this.dest = dest;
    this.cluster = cluster;
    ex.destination = cluster.destination;
    buildUpstreamRequest(this, route, dest);
    this.timeoutMs = route.timeoutMs;
    this.perTryTimeoutMs = route.retry?.perTryTimeoutMs ?? 0;
    takeTimeoutHeaders(this.upstreamHeaders, ex.direction === 'outbound', this);
    // Inbound: the app learns the verified caller from XFCC; a caller's own XFCC never passes.
    if (ex.direction === 'inbound') setForwardedClientCert(this.upstreamHeaders, req.socket, this.deps.selfIdentity?.());
    this.deps.observer.onStart(ex, this.upstreamHeaders);

    // ----------------------------------------------------------- deadline
    // Started before the fault delay: an injected delay counts against the route timeout.
    // A gRPC caller's own deadline (grpc-timeout) caps the route timeout.
    let timeoutMs = this.timeoutMs;
    if (this.grpc) {
      const callerMs = grpcTimeoutMs(req.headers['grpc-timeout']);
      if (callerMs > 0 && (timeoutMs === 0 || callerMs < timeoutMs)) timeoutMs = callerMs;
    }
    if (timeoutMs > 0) this.deadline = setTimeout(onDeadline, timeoutMs, this);

    // ----------------------------------------------------------- fault
    const fault = route.fault;
    if (fault !== null) {
      const delay = fault.delayFor(req.headers, this.deps.rng);
      if (delay > 0) {
        ex.flags |= Flag.DI;
        fault.active++;
        this.deps.events.fault(route.name, 'delay');
        setTimeout(afterDelay, delay, this);
        return;
      }
    }
    this.#afterFaultDelay();
  }

  /** @internal timer/event trampoline target */
  afterDelay(): void {
    this.route!.fault!.active--;
    if (!this.done) this.#afterFaultDelay();
  }

  #afterFaultDelay(): void {
    const route = this.route!;
    if (route.fault !== null) {
      const status = route.fault.abortFor(this.req.headers, this.deps.rng);
      if (status > 0) {
        // The experiment itself: never retried.
        this.deps.events.fault(route.name, 'abort');
        return this.fail(errors.faultAbort(status, route.fault.grpcStatusFor(status)));
      }
    }
    this.#readBody();
  }

  // ------------------------------------------------------------- body, then mirror
  #readBody(): void {
    const req = this.req;
    if (this.upgrade === null && hasBody(req)) {
      // Streamed as it arrives; a bounded copy is kept only when a retry or a mirror may need it.
      const route = this.route!;
      this.replay = new ReplayBody(req, route.retry !== null || route.mirror !== null ? this.deps.bufferLimit : 0);
      if (this.reqFrames !== undefined) {
        (req as IncomingMessage & { [STATE]?: RequestState })[STATE] = this;
        req.on('data', countRequestMessages);
      }
    }
    this.#startUpstream();
  }

  #startUpstream(): void {
    const mirror = this.route!.mirror;
    if (mirror !== null) {
      // A tunnel cannot be duplicated. A body goes to the mirror once it has
      // arrived whole; a body past --buffer-limit is not mirrored (counted
      // dropped) rather than sent truncated.
      if (this.upgrade !== null) mirror.drop(this.deps.events.mirror);
      else if (this.replay === undefined) this.bodyComplete(EMPTY_BODY);
      else this.replay.whenComplete(this);
    }
    this.#tryOnce();
  }

  /** The whole request body has arrived (or its copy was dropped): time to mirror. */
  bodyComplete(copy: Buffer | null): void {
    const mirror = this.route!.mirror!;
    if (copy === null) return mirror.drop(this.deps.events.mirror);
    mirror.send(this.ex.method, this.upstreamPath, this.ex.authority, this.upstreamHeaders, copy === EMPTY_BODY ? null : copy, this.deps.events.mirror);
  }

  // ------------------------------------------------------------- retry { pick → admit → forward }
  #tryOnce(): void {
    const cluster = this.cluster!;
    const lb = cluster.policy.lb;
    if (this.ex.attempts === 0 && (lb.kind === 'ring_hash' || lb.kind === 'maglev')) {
      this.hash = requestHash(lb.hashKey, this.req.headers, this.req.socket.remoteAddress, this.rawQuery);
      if (this.hash === undefined) {
        const gen = generatedCookie(lb.hashKey);
        if (gen !== undefined) {
          this.hash = gen.hash;
          this.setCookie = gen.setCookie;
        }
      }
    }
    const ep = cluster.picker.pick(this.hash, this.lastEndpoint, cluster.panic);
    if (ep === undefined) return this.#exhausted(errors.noHealthyUpstream(cluster.name));
    const limit = admitRequest(cluster);
    if (limit !== undefined) {
      this.deps.events.overflow(cluster.destination.service, limit);
      return this.fail(errors.overflow(limit));
    }
    const n = ++this.ex.attempts;
    if (this.route!.retry !== null) this.upstreamHeaders['x-envoy-attempt-count'] = String(n);
    cluster.active++;
    cluster.requestsTotal++;
    ep.active++;
    ep.requestsTotal++;
    this.lastEndpoint = ep;
    this.ex.endpoint = ep;
    const proto = cluster.model.protocol;
    // HTTP/2 upstream for HTTP2/GRPC clusters (and the inbound app when the caller spoke HTTP/2); upgrades stay HTTP/1.1.
    const a = this.upgrade === null && (proto === 'http2' || (proto === 'downstream' && this.h2)) ? new H2Attempt(this, ep) : HTTP1_NODE ? new Http1Attempt(this, ep) : new Attempt(this, ep);
    this.attempt = a;
    const perTry = this.perTryTimeoutMs;
    if (perTry > 0) this.perTry = setTimeout(onPerTryTimeout, perTry, this);
    a.start(this.ex.method, this.upstreamPath, this.upstreamHeaders, this.replay?.stream() ?? null, this.upgrade);
  }

  /** Releases the counters an attempt holds. Idempotent per attempt via `attempt` identity. */
  #release(a: UpstreamAttempt): void {
    if (this.attempt !== a) return;
    this.attempt = undefined;
    const c = this.cluster!;
    c.active--;
    a.endpoint.active--;
    if (this.perTry !== undefined) {
      clearTimeout(this.perTry);
      this.perTry = undefined;
    }
  }

  attemptHeaders(a: UpstreamAttempt, status: number, headers: IncomingHttpHeaders): void {
    const route = this.route!;
    // gRPC: a trailers-only answer carries its status here; outlier detection
    // and retries see it as Envoy maps it (UNAVAILABLE → 503, ...).
    const gs = this.grpc ? grpcStatusOf(headers) : -1;
    if (gs >= 0) this.ex.grpcStatus = gs;
    if (!this.grpc || gs >= 0 || status !== 200) this.deps.outlier.record(this.cluster!, a.endpoint, gs >= 0 ? grpcToHttpStatus(gs) : status);
    const retry = route.retry;
    if (retry !== null && (retry.retriableStatus(status, this.ex.method) || retry.retriableGrpc(gs))) {
      if (this.#canRetry()) {
        const ra = status === 429 || status === 503 ? headers['retry-after'] : undefined;
        a.abort(ABORTED);
        this.#release(a);
        return this.#scheduleRetry(typeof ra === 'string' ? ra : undefined, gs > 0 ? 'grpc' : 'status');
      }
      // Envoy's URX: the upstream's own answer is passed on, marked as the last of spent retries.
      if (this.retries >= retry.maxRetries) this.ex.flags |= Flag.URX;
    }
    a.commit();
    if (gs < 0 && this.grpc && status === 200 && retry !== null && retry.grpcOn !== 0 && !retry.isDefault && this.retries < retry.maxRetries && this.#replayable()) {
      // The status will come in trailers: hold the (bounded) response until
      // then. Only for a route's own retry policy: the mesh default reads
      // trailers-only answers, as Envoy does, and never delays a stream.
      this.held = new HeldResponse(status, headers);
      return;
    }
    this.#writeHead(a, status, headers);
  }

  /** Sends the response head to the caller; false when node refused a header (answered 502 instead). */
  #writeHead(a: UpstreamAttempt, status: number, headers: IncomingHttpHeaders): boolean {
    const route = this.route!;
    // No attempt follows a committed response: the replay copy is no longer needed.
    this.replay?.release();
    this.ex.status = status;
    this.ex.upstreamHeadersMs = performance.now() - this.ex.startMs;
    const out = forwardableResponseHeaders(headers as Record<string, string | string[] | undefined>);
    if (route.responseHeaders !== undefined) applyHeaderOps(out as Record<string, string | string[]>, route.responseHeaders);
    if (this.dest?.responseHeaders !== undefined) applyHeaderOps(out as Record<string, string | string[]>, this.dest.responseHeaders);
    if (this.setCookie !== undefined) out['set-cookie'] = this.setCookie;
    if (this.ex.flags !== 0) out[FLAGS_HEADER] = flagsToString(this.ex.flags);
    if (this.h2 && this.grpc && this.ex.grpcStatus >= 0) this.pendingTrailers = moveGrpcStatusToTrailers(out);
    try {
      this.res.writeHead(status, out);
    } catch (err) {
      // node:http refuses a header an upstream (or a config header op) made
      // invalid: answer 502 rather than let the exception escape into undici.
      a.abort(ABORTED);
      this.#release(a);
      this.ex.status = 0;
      this.fail(errors.upstreamProtocol(`invalid response header: ${(err as Error).message}`));
      return false;
    }
    if (this.ex.method === 'HEAD') this.res.end();
    return true;
  }

  #replayable(): boolean {
    return this.replay === undefined || this.replay.replayable;
  }

  attemptUpgrade(a: Attempt, status: number, headers: IncomingHttpHeaders, upstream: Duplex): void {
    const ex = this.ex;
    if (this.done) {
      upstream.destroy();
      return;
    }
    this.deps.outlier.record(this.cluster!, a.endpoint, status);
    // The tunnel is open: the route timeout and per-try timeout bound the
    // handshake only (Istio disables the route timeout for WebSocket).
    if (this.perTry !== undefined) {
      clearTimeout(this.perTry);
      this.perTry = undefined;
    }
    this.#clearDeadline();
    this.done = true;
    ex.status = status;
    ex.upstreamHeadersMs = performance.now() - ex.startMs;
    const out = headers as Record<string, string | string[]>;
    const route = this.route!;
    if (route.responseHeaders !== undefined) applyHeaderOps(out, route.responseHeaders);
    if (this.dest?.responseHeaders !== undefined) applyHeaderOps(out, this.dest.responseHeaders);
    if (ex.flags !== 0) out[FLAGS_HEADER] = flagsToString(ex.flags);
    const client = this.client!;
    // From here the socket carries the new protocol: the ServerResponse must never write to it again.
    this.res.detachSocket(client as Socket);
    new Tunnel(this, client, upstream).open(status, out, this.head ?? EMPTY);
  }

  tunnelClosed(t: Tunnel): void {
    const a = this.attempt;
    if (a !== undefined) this.#release(a);
    this.ex.bytesIn = t.bytesIn;
    this.ex.bytesOut = t.bytesOut;
    this.#complete();
  }

  attemptData(a: UpstreamAttempt, chunk: Buffer): boolean {
    this.ex.bytesOut += chunk.length;
    this.resFrames?.push(chunk);
    const held = this.held;
    if (held !== undefined) {
      // A message means the server is answering: stop holding (held-response.ts says why).
      if (held.push(chunk, this.resFrames!.messages, this.deps.bufferLimit)) return true;
      return this.#flushHeld(a);
    }
    if (this.res.write(chunk)) return true;
    this.res.once('drain', a.resumer);
    return false;
  }

  /** Writes a held response's head and body; returns the write's backpressure verdict. */
  #flushHeld(a: UpstreamAttempt): boolean {
    const held = this.held!;
    this.held = undefined;
    if (!this.#writeHead(a, held.status, held.headers)) return true;
    let ok = true;
    for (const c of held.chunks) ok = this.res.write(c);
    if (!ok) this.res.once('drain', a.resumer);
    return ok;
  }

  attemptEnd(a: UpstreamAttempt, trailers: IncomingHttpHeaders | undefined): void {
    if (this.grpc) {
      const gs = grpcStatusOf(trailers);
      if (gs >= 0) {
        this.ex.grpcStatus = gs;
        this.deps.outlier.record(this.cluster!, a.endpoint, grpcToHttpStatus(gs));
      }
      if (this.held !== undefined) {
        const retry = this.route!.retry!;
        if (retry.retriableGrpc(gs)) {
          if (this.#canRetry()) {
            this.held = undefined;
            this.#release(a);
            return this.#scheduleRetry(undefined, 'grpc');
          }
          if (this.retries >= retry.maxRetries) this.ex.flags |= Flag.URX;
        }
        this.#flushHeld(a);
        if (this.done) return;
      }
    }
    this.#release(a);
    this.#clearDeadline();
    const extra = this.pendingTrailers;
    if (trailers !== undefined || extra !== undefined) {
      try {
        if (trailers !== undefined) this.res.addTrailers(forwardableResponseHeaders(trailers as Record<string, string | string[] | undefined>));
        if (extra !== undefined) this.res.addTrailers(extra);
      } catch {
        // A trailer node refuses is dropped rather than failing a response whose body was already sent.
      }
    }
    this.res.end();
  }

  requestTrailers(): IncomingHttpHeaders | undefined {
    const t = this.req.trailers;
    for (const _ in t) return t;
    return undefined;
  }

  attemptError(a: UpstreamAttempt, err: Error): void {
    this.held = undefined;
    this.#release(a);
    const kind = classifyError(err);
    if (kind === 'aborted') return;
    this.deps.outlier.record(this.cluster!, a.endpoint, kind === 'connect' ? 'connect' : 'reset');
    if (this.res.headersSent) {
      this.ex.flags |= kind === 'idle' ? Flag.SI : Flag.UR;
      this.done = true;
      // A gRPC stream cut between messages ends with a status the caller can
      // act on (UNAVAILABLE: the server went away or went silent). Envoy resets
      // the stream instead, which gRPC clients report as INTERNAL or CANCELLED.
      if (this.h2 && this.resFrames !== undefined && this.resFrames.atBoundary) return this.#endGrpcStream(kind === 'idle' ? errors.upstreamIdle() : errors.upstreamReset(err.message));
      // Mid-body failure: the client must see a truncated response, not a clean end.
      this.res.destroy();
      return;
    }
    if (kind === 'idle') return this.#exhausted(errors.upstreamIdle());
    const retry = this.route!.retry;
    const failure = kind === 'connect' ? 'connect' : 'reset';
    if (retry !== null && retry.retriableFailure(failure, this.ex.method) && this.#canRetry()) return this.#scheduleRetry(undefined, failure);
    const e =
      kind === 'connect' ? errors.connectFailure(err.message) : kind === 'protocol' ? errors.upstreamProtocol(err.message) : errors.upstreamReset(err.message);
    this.#exhausted(e);
  }

  /** Ends a started gRPC response with the failure as trailers (errors/grpc-reply.ts). */
  #endGrpcStream(e: MeshletError): void {
    this.#clearDeadline();
    const code = endGrpcStream(this.res, e);
    if (code >= 0) this.ex.grpcStatus = code;
  }

  #canRetry(): boolean {
    const retry = this.route!.retry!;
    if (this.retries >= retry.maxRetries || this.done) return false;
    if (this.replay !== undefined && !this.replay.replayable) {
      // Envoy's retry_or_shadow_abandoned: the body outgrew its copy.
      this.deps.events.retryAbandoned(this.cluster!.destination.service, 'body_too_large');
      return false;
    }
    if (!admitRetry(this.cluster!, this.retries > 0)) {
      // Envoy's retry overflow: no retry, the answer in hand goes back flagged UO.
      this.ex.flags |= Flag.UO;
      this.deps.events.retryBudgetExhausted(this.cluster!.destination.service);
      return false;
    }
    return true;
  }

  #scheduleRetry(retryAfter: string | undefined, reason: string): void {
    // A request counts against the retry budget from its first retry until it completes.
    if (this.retries === 0) this.cluster!.activeRetries++;
    this.retries++;
    this.deps.events.retry(this.cluster!.destination.service, reason);
    const wait = this.route!.retry!.backoffMs(this.retries, retryAfter, this.deps.rng);
    if (wait <= 0) return this.#tryOnce();
    setTimeout(retryNow, wait, this);
  }

  /** @internal timer/event trampoline target */
  retryNow(): void {
    if (!this.done) this.#tryOnce();
  }

  /** Final failure after the last attempt: adds URX when retries were spent. */
  #exhausted(e: MeshletError): void {
    this.fail(this.retries > 0 ? errors.retryLimit(e) : e);
  }

  /** @internal timer/event trampoline target */
  onPerTryTimeout(): void {
    this.perTry = undefined;
    const a = this.attempt;
    if (a === undefined || this.res.headersSent) return;
    a.abort(ABORTED);
    this.#release(a);
    this.deps.outlier.record(this.cluster!, a.endpoint, 'timeout');
    const retry = this.route!.retry;
    if (retry !== null && retry.retriableFailure('timeout', this.ex.method) && this.#canRetry()) return this.#scheduleRetry(undefined, 'per_try_timeout');
    this.#exhausted(errors.upstreamTimeout());
  }

  /** @internal timer/event trampoline target */
  onDeadline(): void {
    this.deadline = undefined;
    const a = this.attempt;
    if (a !== undefined) {
      a.abort(ABORTED);
      this.#release(a);
    }
    this.fail(errors.upstreamTimeout());
  }

  #clearDeadline(): void {
    if (this.deadline !== undefined) {
      clearTimeout(this.deadline);
      this.deadline = undefined;
    }
  }

  // ------------------------------------------------------------- local replies and completion
  fail(e: MeshletError): void {
    if (this.done) return;
    this.#clearDeadline();
    this.done = true;
    rescue(this.ex, this.res, e);
  }

  /** @internal timer/event trampoline target */
  onClose(): void {
    const ex = this.ex;
    // node:http2's compatibility response reports 'finished' on any stream close: ask whether we ended it.
    if (this.h2 ? !this.res.writableEnded : !this.res.writableFinished) {
      // The client went away (or we cut the response): stop upstream work.
      ex.flags |= Flag.DC;
      const a = this.attempt;
      if (a !== undefined) {
        a.abort(ABORTED);
        this.#release(a);
      }
    }
    this.#complete();
  }

  #complete(): void {
    const ex = this.ex;
    this.done = true;
    this.#clearDeadline();
    if (this.retries > 0 && this.cluster !== undefined) this.cluster.activeRetries--;
    ex.durationMs = performance.now() - ex.startMs;
    if (this.replay !== undefined) ex.bytesIn = this.replay.received;
    if (ex.status === 0) ex.status = this.res.statusCode;
    if (this.reqFrames !== undefined) {
      ex.requestMessages = this.reqFrames.messages;
      ex.responseMessages = this.resFrames!.messages;
    }
    this.deps.observer.onComplete(ex);
  }

  // ------------------------------------------------------------- request rewriting
}

/** Outbound routing: Host → virtual host (Kubernetes short names relative to our namespace) → first matching route. */
export function routeFromSnapshot(s: RequestState): CompiledRoute | MeshletError {
  const snap = s.snapshot;
  if (snap === undefined) return errors.noRoute(`${s.ex.authority} (no configuration loaded yet)`);
  const vh = snap.hosts.lookup(s.ex.authority);
  if (vh === undefined) return errors.noRoute(s.ex.authority);
  const i = vh.table.match(s);
  if (i < 0) return errors.noRoute(`${s.ex.authority}${s.path}`);
  return vh.routes[i]!;
}
