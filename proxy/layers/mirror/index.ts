// Traffic mirroring (VirtualService mirror / mirrorPercentage / mirrors[]).
// Fire and forget: the primary never waits for a mirror, a mirror failure is
// only counted, and the number of mirrors in flight is bounded process-wide.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { MirrorPolicy } from '../../config/model/index.js';
import type { MirrorEvents, MirrorOutcome } from '../../exchange/index.js';
import type { ClusterRuntime } from '../../upstream/cluster.js';
import type { Endpoint } from '../../upstream/endpoint.js';
import { toH2Headers } from '../../upstream/h2-sessions.js';
import { constants, type ClientHttp2Stream } from 'node:http2';

export type { MirrorEvents, MirrorOutcome };

/** Process-wide cap on mirror requests in flight: a slow mirror must never pile up memory. */
let maxInflight = 64;
let inflight = 0;
/**
 * A mirror gets the route timeout, as Envoy's shadow requests do; without one,
 * Envoy's default route timeout (15 s). Without any bound a mirror that never
 * answers would hold its in-flight slot forever and, once the cap is reached,
 * silently stop all mirroring.
 */
const DEFAULT_MIRROR_TIMEOUT_MS = 15_000;
export function setMirrorConcurrency(n: number): void {
  maxInflight = n;
}

interface Target {
  readonly cluster: ClusterRuntime | undefined;
  readonly percent: number;
  acc: number;
  readonly shadowSuffix: boolean;
}

export class MirrorLayer {
  readonly route: string;
  readonly #targets: Target[];
  readonly #timeoutMs: number;

  constructor(targets: Target[], route: string, timeoutMs: number) {
    this.#targets = targets;
    this.route = route;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Mirrors one request. `headers` is the upstream header object (copied, never
   * mutated); `body` is the buffered body, null for none, or a stream tee that
   * the caller feeds (bounded by the caller).
   */
  /** Counts a request this route would have mirrored but could not (e.g. its body was too large to copy). */
  drop(events: MirrorEvents): void {
    for (let i = 0; i < this.#targets.length; i++) events(this.route, 'dropped');
  }

  send(method: string, path: string, authority: string, headers: Record<string, string | string[]>, body: Buffer | Readable | null, events: MirrorEvents): void {
    for (const t of this.#targets) {
      if (t.percent < 100) {
        t.acc += t.percent;
        if (t.acc < 100) continue;
        t.acc -= 100;
      }
      const ep = t.cluster?.picker.pick(undefined, undefined, t.cluster.panic);
      if (ep === undefined || inflight >= maxInflight) {
        events(this.route, 'dropped');
        continue;
      }
      inflight++;
      const h: Record<string, string | string[]> = { ...headers, host: t.shadowSuffix ? shadowHost(authority) : authority };
      const sink = new MirrorSink(this.route, events, this.#timeoutMs);
      if (t.cluster!.model.protocol === 'http2') {
        sink.sendH2(ep, method, path, h, body);
        continue;
      }
      try {
        ep.pool.dispatch({ method, path, headers: h, body, idempotent: false }, sink);
      } catch {
        // undici refuses synchronously (e.g. a closed pool during a config swap): a mirror never hurts the primary.
        sink.onResponseError();
      }
    }
  }
}

/** Discards the mirror's response; counts the outcome once; gives up after the timeout. */
class MirrorSink implements Dispatcher.DispatchHandler {
  #done = false;
  #controller: Dispatcher.DispatchController | undefined;
  readonly #timer: NodeJS.Timeout;
  constructor(
    readonly route: string,
    readonly events: MirrorEvents,
    timeoutMs: number,
  ) {
    this.#timer = setTimeout(this.#onTimeout, timeoutMs);
    this.#timer.unref();
  }
  readonly #onTimeout = (): void => {
    this.#finish('failed');
    const c = this.#controller;
    if (c !== undefined && !c.aborted) c.abort(new Error('mirror timeout'));
    if (this.#h2 !== undefined && !this.#h2.closed) this.#h2.close(constants.NGHTTP2_CANCEL);
  };
  // undici 7 tells handler styles apart by this method: without it dispatch() throws.
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // Timed out while queued for a connection: do not send it at all.
    if (this.#done) controller.abort(new Error('mirror timeout'));
  }
  onResponseStart(_c: Dispatcher.DispatchController, status: number): void {
    this.#finish(status >= 500 ? 'failed' : 'sent');
  }
  onResponseData(): void {}
  onResponseEnd(): void {}
  onResponseError(): void {
    this.#finish('failed');
  }
  /** The same, over the endpoint's HTTP/2 connections (HTTP2 and GRPC services). */
  sendH2(ep: Endpoint, method: string, path: string, h: Record<string, string | string[]>, body: Buffer | Readable | null): void {
    let stream: ClientHttp2Stream;
    try {
      stream = ep.h2.request(toH2Headers(method, path, h), body === null);
    } catch {
      return this.onResponseError();
    }
    this.#h2 = stream;
    stream.once('response', (hs) => {
      const status = Number(hs[':status']);
      const grpc = hs['grpc-status'];
      this.#finish(status >= 500 || (typeof grpc === 'string' && grpc !== '0' && grpc !== '') ? 'failed' : 'sent');
    });
    stream.on('error', () => this.onResponseError());
    stream.once('close', () => this.onResponseError());
    stream.resume();
    if (Buffer.isBuffer(body)) stream.end(body);
    else if (body !== null) (body as Readable).pipe(stream);
  }
  #h2: ClientHttp2Stream | undefined;

  #finish(o: MirrorOutcome): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    inflight--;
    this.events(this.route, o);
  }
}

/** `reviews:9080` → `reviews-shadow:9080` (Envoy inserts the suffix before the port). */
export function shadowHost(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon > 0 && authority.indexOf(']') < colon && /^\d+$/.test(authority.slice(colon + 1))) {
    return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
  }
  return `${authority}-shadow`;
}

export function compileMirrors(
  mirrors: readonly MirrorPolicy[],
  resolve: (host: string, port: number | undefined, subset: string | undefined) => ClusterRuntime | undefined,
  route: string,
  routeTimeoutMs = 0,
): MirrorLayer | null {
  if (mirrors.length === 0) return null;
  return new MirrorLayer(
    mirrors.map((m) => ({ cluster: resolve(m.host, m.port, m.subset), percent: m.percent, acc: 0, shadowSuffix: m.shadowSuffix })),
    route,
    routeTimeoutMs > 0 ? routeTimeoutMs : DEFAULT_MIRROR_TIMEOUT_MS,
  );
}
