// Built-in open-loop load through a sidecar: requests are released on a fixed
// schedule that never waits for responses (a slow mesh must not slow the
// users down, and queueing counts against latency, as in test/bench's
// open-loop driver). Each completion lands in the one-second bucket of its
// release, which is what the per-second samples are made of.
import http from 'node:http';

export interface LoadSpec {
  readonly via: string;
  readonly host: string;
  readonly path: string;
  readonly rate: number;
  readonly method: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly failIfBodyContains?: string;
}

export interface SecondBucket {
  sent: number;
  ok: number;
  failed: number;
  /** How requests ended: status code, or the client error (ECONNRESET, client timeout). */
  readonly outcomes: Record<string, number>;
  /** Latencies (ms) of completed requests, success or not. */
  readonly latencies: number[];
}

export class LoadGenerator {
  readonly #spec: LoadSpec;
  readonly #agent: http.Agent;
  readonly #opts: http.RequestOptions;
  readonly buckets: SecondBucket[] = [];
  /** The same requests grouped by the phase they were released in. */
  readonly byPhase = new Map<string, SecondBucket>();
  /** Phase new requests are counted in. */
  phase = '';
  /** The phase before the fault, and the fault's phase (requests overlapping both count in the latter). */
  first = 'baseline';
  faulty = 'inject';

  #phaseBucket(name: string): SecondBucket {
    let p = this.byPhase.get(name);
    if (p === undefined) this.byPhase.set(name, (p = { sent: 0, ok: 0, failed: 0, outcomes: {}, latencies: [] }));
    return p;
  }
  #timer: NodeJS.Timeout | undefined;
  #start = 0;
  #released = 0;
  #inFlight = 0;

  constructor(spec: LoadSpec) {
    this.#spec = spec;
    const [host, port] = [spec.via.slice(0, spec.via.lastIndexOf(':')), Number(spec.via.slice(spec.via.lastIndexOf(':') + 1))];
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
    // Origin-form with the service's Host: how an intercepted app's call reaches the outbound listener.
    this.#opts = { agent: this.#agent, host, port, path: spec.path, method: spec.method, headers: { ...spec.headers, host: spec.host }, timeout: spec.timeoutMs };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Starts releasing requests; `t0` is the experiment's time origin (bucket 0). */
  start(t0: number): void {
    this.#start = t0;
    const interval = 1000 / this.#spec.rate;
    const tick = (): void => {
      const due = Math.floor((Date.now() - this.#start) / interval) + 1;
      // Catch up after a late timer, but never a burst of more than one second's worth.
      if (due - this.#released > this.#spec.rate) this.#released = due - Math.ceil(this.#spec.rate);
      while (this.#released < due) {
        this.#released++;
        this.#one();
      }
    };
    tick();
    this.#timer = setInterval(tick, Math.max(1, Math.min(50, Math.floor(interval))));
  }

  /** Stops releasing; waits (bounded by the request timeout) for requests in flight. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const end = Date.now() + this.#spec.timeoutMs + 500;
    while (this.#inFlight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    this.#agent.destroy();
  }

  bucket(i: number): SecondBucket {
    while (this.buckets.length <= i) this.buckets.push({ sent: 0, ok: 0, failed: 0, outcomes: {}, latencies: [] });
    return this.buckets[i]!;
  }

  #one(): void {
    const t = Date.now();
    const b = this.bucket(Math.max(0, Math.floor((t - this.#start) / 1000)));
    const released = this.phase;
    b.sent++;
    this.#phaseBucket(released).sent++;
    this.#inFlight++;
    let settled = false;
    const done = (ok: boolean, how: string): void => {
      if (settled) return;
      settled = true;
      this.#inFlight--;
      const took = Date.now() - t;
      // A request released before the fault but still running when it went in
      // may have met it: it counts in inject, so baseline is never blamed for it.
      const p = this.#phaseBucket(released === this.first && this.phase !== released ? this.faulty : released);
      p.outcomes[how] = (p.outcomes[how] ?? 0) + 1;
      b.latencies.push(took);
      p.latencies.push(took);
      if (ok) (b.ok++, p.ok++);
      else (b.failed++, p.failed++);
    };
    const needle = this.#spec.failIfBodyContains;
    const req = http.request(this.#opts, (res) => {
      const good = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
      let body = '';
      if (needle !== undefined && good) res.on('data', (c: Buffer) => void (body.length < 65_536 && (body += c.toString('utf8'))));
      else res.resume();
      const flags = res.headers['x-meshlet-flags'];
      const how = `${res.statusCode ?? 0}${typeof flags === 'string' ? ` ${flags}` : ''}`;
      res.on('end', () => {
        const bodyOk = needle === undefined || !body.includes(needle);
        done(good && bodyOk, bodyOk ? how : `${how} (body has "${needle ?? ''}")`);
      });
      res.on('error', (err: NodeJS.ErrnoException) => done(false, err.code ?? 'response error'));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'client timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => done(false, err.code ?? err.message));
    req.end();
  }
}
