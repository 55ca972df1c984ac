// A request body of unknown length (HTTP/2 and gRPC streams carry no
// content-length) streamed to the first attempt while a bounded copy is kept.
// If the caller finished sending before the attempt failed, and the copy did
// not overflow the buffer limit, retries and the mirror replay the copy; a
// long client stream simply stops being replayable. Unlike buffering first,
// a bidi call whose client waits for answers before it sends more never stalls.
import { PassThrough, type Readable } from 'node:stream';

export class BodyTee {
  readonly #src: Readable;
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #sink: PassThrough | undefined;
  overflow = false;
  complete = false;
  /** Called once when the caller's body ended (not called if the caller went away). */
  onComplete: ((tee: BodyTee) => void) | undefined;
  /** Called with each chunk (gRPC message counting). */
  onChunk: ((chunk: Buffer) => void) | undefined;

  constructor(src: Readable, limit: number) {
    this.#src = src;
    this.#limit = limit;
    this.#sink = new PassThrough({ highWaterMark: 64 * 1024 });
    src.on('data', this.#onData);
    src.once('end', this.#onEnd);
  }

  /** The body for the first attempt: the live stream. */
  get stream(): Readable {
    return this.#sink!;
  }

  /** True when the whole body is held: a retry or mirror can send it again. */
  get replayable(): boolean {
    return this.complete && !this.overflow;
  }

  /** The held copy (only meaningful when `replayable`). */
  buffer(): Buffer {
    if (this.#chunks.length !== 1) {
      this.#chunks = [Buffer.concat(this.#chunks, this.#size)];
    }
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  /** The first attempt is gone: stop feeding it, so the caller is never blocked by a dead stream. */
  detach(): void {
    const s = this.#sink;
    if (s === undefined) return;
    this.#sink = undefined;
    s.destroy();
    this.#src.resume();
  }

  readonly #onData = (c: Buffer): void => {
    this.onChunk?.(c);
    if (!this.overflow) {
      if (this.#size + c.length > this.#limit) {
        this.overflow = true;
        this.#chunks = [];
        this.#size = 0;
      } else {
        this.#chunks.push(c);
        this.#size += c.length;
      }
    }
    const s = this.#sink;
    if (s !== undefined && !s.write(c)) {
      this.#src.pause();
      s.once('drain', this.#resume);
    }
  };

  readonly #resume = (): void => {
    this.#src.resume();
  };

  readonly #onEnd = (): void => {
    this.complete = true;
    this.#sink?.end();
    this.onComplete?.(this);
  };
}
