// The demo's users: a steady request rate to productpage through the load
// generator's sidecar (explicit proxy: absolute-form request line), one in
// five as the logged-in user `jason`, whose `end-user` header the reviews
// VirtualService routes to v2. Counts what users actually saw.
import http from 'node:http';

export interface ClientWindow {
  readonly rps: number;
  /** Fraction of page loads that were 200 with no error from any backend; NaN with none. */
  readonly ok: number;
  readonly sent: number;
  readonly failed: number;
}

interface Tick {
  readonly at: number;
  readonly ok: boolean;
}

export class TrafficDriver {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  readonly #done: Tick[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight = 0;
  #n = 0;
  sent = 0;
  failed = 0;

  constructor(
    private readonly proxyPort: number,
    private readonly rps: number,
  ) {}

  start(): void {
    // A fixed interval, not a closed loop: a slow mesh must not slow the users down.
    this.#timer = setInterval(() => this.#one(), Math.max(1, Math.round(1000 / this.rps)));
  }

  /** Stops sending and waits (bounded) for requests in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const end = Date.now() + 3000;
    while (this.#inFlight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    this.#agent.destroy();
  }

  window(ms = 5000): ClientWindow {
    const now = Date.now();
    while (this.#done.length > 0 && now - this.#done[0]!.at > ms) this.#done.shift();
    const ok = this.#done.filter((t) => t.ok).length;
    const span = Math.min(ms, now - (this.#startedAt ?? now)) / 1000;
    return { rps: span > 0 ? this.#done.length / span : 0, ok: this.#done.length > 0 ? ok / this.#done.length : NaN, sent: this.sent, failed: this.failed };
  }

  #startedAt: number | undefined;

  /** One page load; resolves true when the whole page (details + reviews) came back fine. */
  request(jason: boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const headers: Record<string, string> = { host: 'productpage:9080', accept: 'application/json' };
      if (jason) headers['end-user'] = 'jason';
      const req = http.request(
        { host: '127.0.0.1', port: this.proxyPort, path: 'http://productpage:9080/productpage', headers, agent: this.#agent, timeout: 5000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', () => resolve(false));
          res.on('end', () => {
            if (res.statusCode !== 200) return resolve(false);
            try {
              const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
              // Bookinfo answers 200 with a peer's error inside; users see a broken page.
              const broken = (v: unknown): boolean => typeof v !== 'object' || v === null || 'error' in v;
              resolve(!broken(body['details']) && !broken(body['reviews']));
            } catch {
              resolve(false);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  #one(): void {
    this.#startedAt ??= Date.now();
    const jason = this.#n++ % 5 === 0;
    this.#inFlight++;
    this.sent++;
    void this.request(jason).then((ok) => {
      this.#inFlight--;
      if (!ok) this.failed++;
      this.#done.push({ at: Date.now(), ok });
    });
  }
}
