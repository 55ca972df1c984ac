// A request body that streams upstream as it arrives while a bounded copy is
// kept for a retry or a mirror (Envoy's router buffer and
// `retry_or_shadow_abandoned`, Linkerd's ReplayBody). Each attempt reads a
// fresh stream: the copy so far, then the rest live from the client. Once the
// copy would pass the limit it is dropped: the attempt in progress still gets
// every byte, but no later attempt can be made (the pipeline counts the
// retry as abandoned) and a mirror waiting for the whole body is dropped.
//
// One ReplayBody per request with a body; its listeners are shared functions
// that find it through the request (no closure per request).
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/** Told once when the whole body has arrived: the complete copy, or null when the copy was dropped. */
export interface ReplayOwner {
  bodyComplete(copy: Buffer | null): void;
}

const BODY = Symbol('meshlet.replay');
type Source = IncomingMessage & { [BODY]?: ReplayBody };

function onData(this: Source, chunk: Buffer): void {
  this[BODY]?.data(chunk);
}
function onEnd(this: Source): void {
  this[BODY]?.end();
}
function onAborted(this: Source): void {
  this[BODY]?.abort();
}

/** What one attempt reads: asks the client for more when undici drains it. */
class AttemptBody extends Readable {
  readonly #owner: ReplayBody;
  constructor(owner: ReplayBody) {
    super();
    this.#owner = owner;
  }
  override _read(): void {
    this.#owner.wanted(this);
  }
}

export class ReplayBody {
  /** Body bytes received from the client so far (bytes_received). */
  received = 0;
  /** The copy was dropped (past the limit, or released): no new attempt can read the body. */
  capped = false;
  ended = false;
  readonly #req: Source;
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #copied = 0;
  #live: AttemptBody | undefined;
  #streams = 0;
  #owner: ReplayOwner | undefined;

  /** `limit` 0 keeps no copy: the body streams to one attempt only. */
  constructor(req: IncomingMessage, limit: number) {
    this.#req = req as Source;
    this.#limit = limit;
    this.capped = limit <= 0;
    this.#req[BODY] = this;
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('aborted', onAborted);
    // Without a listener an 'error' from a reset client would escape the process.
    req.once('error', onAborted);
  }

  /** Whether another attempt can still be given the whole body. */
  get replayable(): boolean {
    return this.#streams === 0 || !this.capped;
  }

  /** A fresh stream for the next attempt, or null when the body can no longer be replayed. */
  stream(): Readable | null {
    if (!this.replayable) return null;
    this.#streams++;
    const prev = this.#live;
    if (prev !== undefined && !prev.destroyed) prev.destroy();
    const s = new AttemptBody(this);
    for (const c of this.#chunks) s.push(c);
    if (this.ended) s.push(null);
    this.#live = s;
    if (!this.ended) this.#req.resume();
    return s;
  }

  /** Calls `owner.bodyComplete` once the body has arrived (at once if it already has). */
  whenComplete(owner: ReplayOwner): void {
    if (this.ended || this.capped) owner.bodyComplete(this.capped ? null : this.#copy());
    else this.#owner = owner;
  }

  /** No more attempts will be made (a response was committed): drop the copy. */
  release(): void {
    if (this.#owner !== undefined) return; // a mirror still waits for the whole body
    this.#chunks = [];
    this.#copied = 0;
    this.capped = true;
  }

  /** @internal request listener target */
  data(chunk: Buffer): void {
    this.received += chunk.length;
    if (!this.capped) {
      if (this.#copied + chunk.length > this.#limit) this.#cap();
      else {
        this.#chunks.push(chunk);
        this.#copied += chunk.length;
      }
    }
    const live = this.#live;
    // Between attempts (or after the last one gave up) nobody reads: hold the client.
    if (live === undefined || live.destroyed || !live.push(chunk)) this.#req.pause();
  }

  /** @internal request listener target */
  end(): void {
    this.ended = true;
    const live = this.#live;
    if (live !== undefined && !live.destroyed) live.push(null);
    const owner = this.#owner;
    if (owner !== undefined) {
      this.#owner = undefined;
      owner.bodyComplete(this.capped ? null : this.#copy());
    }
  }

  /** @internal the client went away mid-body: the attempt reading it fails. */
  abort(): void {
    const live = this.#live;
    if (live !== undefined && !live.destroyed) live.destroy(new Error('request body aborted by the client'));
    this.#cap();
  }

  /** @internal an attempt's stream wants more */
  wanted(s: AttemptBody): void {
    if (s === this.#live && !this.ended) this.#req.resume();
  }

  #cap(): void {
    this.capped = true;
    this.#chunks = [];
    this.#copied = 0;
    const owner = this.#owner;
    if (owner !== undefined) {
      this.#owner = undefined;
      owner.bodyComplete(null);
    }
  }

  #copy(): Buffer {
    const c = this.#chunks;
    return c.length === 1 ? c[0]! : Buffer.concat(c, this.#copied);
  }
}
