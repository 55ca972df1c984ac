// istiod-style push debounce: fire after `quietMs` without new events, but no
// later than `maxMs` after the first event of a burst, so a steady trickle of
// changes cannot starve the sidecars.
export class PushDebouncer {
  readonly #quietMs: number;
  readonly #maxMs: number;
  readonly #fire: () => void;
  #quiet: NodeJS.Timeout | undefined;
  #max: NodeJS.Timeout | undefined;

  constructor(fire: () => void, quietMs = 100, maxMs = 10_000) {
    this.#fire = fire;
    this.#quietMs = quietMs;
    this.#maxMs = maxMs;
  }

  trigger(): void {
    if (this.#quiet) clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#flush(), this.#quietMs);
    this.#max ??= setTimeout(() => this.#flush(), this.#maxMs);
  }

  pending(): boolean {
    return this.#quiet !== undefined;
  }

  cancel(): void {
    if (this.#quiet) clearTimeout(this.#quiet);
    if (this.#max) clearTimeout(this.#max);
    this.#quiet = undefined;
    this.#max = undefined;
  }

  #flush(): void {
    this.cancel();
    this.#fire();
  }
}
