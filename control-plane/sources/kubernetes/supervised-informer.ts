// One watched Kubernetes collection, kept alive. @kubernetes/client-node's
// informer relists on 410 Gone and re-watches when a watch ends cleanly, but
// after a connection reset or a failed list it emits `error` and stops for
// good. This wrapper supervises it:
//  - any error → stale, then a fresh informer after a jittered exponential
//    backoff; the old cache keeps being served until the new one has listed,
//    so an API server outage never empties the mesh;
//  - watches ask for bookmarks and a server-side timeout (jittered, like
//    client-go), so a healthy watch shows activity at least every timeout; a
//    watchdog restarts a watch that silently stalls past `watchdogMs`;
//  - a periodic resync relists through a fresh informer (drift repair);
//  - 404 on a path switches to the next one (CRD served as v1beta1 only).
import { makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';

export interface InformerTiming {
  /** First retry delay after an error (default 500 ms), doubling per attempt… */
  readonly backoffInitialMs?: number;
  /** …up to this (default 30 s); each delay is jittered to [d/2, d). */
  readonly backoffMaxMs?: number;
  /** Server-side watch timeout; each informer picks one in [t, 2t) (default 300 s). */
  readonly watchTimeoutS?: number;
  /** No event, reconnect or list for this long → the watch is stalled (default 2 × 2t + 30 s). */
  readonly watchdogMs?: number;
  /** Full relist period (default 10 min; 0 = never). */
  readonly resyncMs?: number;
}

export interface InformerStatus {
  readonly name: string;
  readonly state: 'starting' | 'synced' | 'retrying';
  /** When the served cache stopped being known-current (undefined = fresh). */
  readonly staleSince?: number;
  readonly lastError?: string;
  readonly path: string;
}

export interface SupervisedInformerOptions<T extends KubernetesObject> {
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  /** Collection paths to try in order (`/apis/networking.istio.io/v1/virtualservices`, then v1beta1). */
  readonly paths: readonly string[];
  readonly list: (path: string) => Promise<KubernetesListObject<T>>;
  readonly onChange: () => void;
  readonly log: (level: 'info' | 'warn', msg: string) => void;
  readonly timing?: InformerTiming;
  readonly random?: () => number;
  readonly now?: () => number;
}

type Inf<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export class SupervisedInformer<T extends KubernetesObject> {
  readonly #o: SupervisedInformerOptions<T>;
  readonly #t: Required<InformerTiming>;
  #current: Inf<T> | undefined;
  #pending: Inf<T> | undefined;
  readonly #abandoned = new WeakSet<Inf<T>>();
  #state: InformerStatus['state'] = 'starting';
  #staleSince: number | undefined;
  #lastError: string | undefined;
  #attempt = 0;
  #pathIndex = 0;
  #lastActivity = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #closed = false;
  #synced: () => void = () => {};
  /** Resolves after the first successful list (or never; callers bound the wait). */
  readonly synced: Promise<void>;

  constructor(opts: SupervisedInformerOptions<T>) {
    this.#o = opts;
    const watchTimeoutS = opts.timing?.watchTimeoutS ?? 300;
    this.#t = {
      backoffInitialMs: opts.timing?.backoffInitialMs ?? 500,
      backoffMaxMs: opts.timing?.backoffMaxMs ?? 30_000,
      watchTimeoutS,
      watchdogMs: opts.timing?.watchdogMs ?? 4 * watchTimeoutS * 1000 + 30_000,
      resyncMs: opts.timing?.resyncMs ?? 600_000,
    };
    this.synced = new Promise((r) => (this.#synced = r));
  }

  start(): void {
    this.#spawn();
    const watchdog = setInterval(() => this.#checkWatchdog(), Math.max(10, Math.floor(this.#t.watchdogMs / 4)));
    watchdog.unref();
    this.#timers.push(watchdog);
    if (this.#t.resyncMs > 0) {
      const resync = setInterval(() => {
        if (this.#state === 'synced' && this.#pending === undefined) this.#spawn();
      }, this.#t.resyncMs);
      resync.unref();
      this.#timers.push(resync);
    }
  }

  /** The last known objects (kept through outages). */
  list(): readonly T[] {
    return this.#current?.list() ?? [];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#current?.get(name, namespace);
  }

  status(): InformerStatus {
    return {
      name: this.#o.name,
      state: this.#state,
      path: this.#o.paths[this.#pathIndex] ?? '',
      ...(this.#staleSince !== undefined ? { staleSince: this.#staleSince } : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    };
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#retryTimer);
    for (const inf of [this.#current, this.#pending]) if (inf) this.#abandon(inf);
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #spawn(): void {
    if (this.#closed) return;
    const path = this.#o.paths[this.#pathIndex] ?? '';
    const timeout = this.#t.watchTimeoutS + Math.floor((this.#o.random ?? Math.random)() * this.#t.watchTimeoutS);
    // The client builds the watch URL as server + path, so query parameters ride along.
    const watchPath = `${path}?allowWatchBookmarks=true&timeoutSeconds=${timeout}`;
    const inf: Inf<T> = makeInformer<T>(this.#o.kubeConfig, watchPath, async () => {
      // A stopped informer still starts its watch when an in-flight list resolves: refuse instead.
      if (this.#abandoned.has(inf)) throw new Error('informer replaced');
      const listed = await this.#o.list(path);
      if (this.#abandoned.has(inf)) throw new Error('informer replaced');
      // The informer fills its cache right after this resolves; look after that.
      setImmediate(() => this.#onListed(inf));
      return listed;
    });
    inf.on('change', () => {
      if (inf !== this.#current) return;
      this.#lastActivity = this.#now();
      this.#o.onChange();
    });
    inf.on('connect', () => {
      if (inf === this.#current) this.#lastActivity = this.#now();
    });
    inf.on('error', (err: unknown) => this.#fail(inf, err));
    this.#pending = inf;
    void inf.start().catch((err: unknown) => this.#fail(inf, err));
  }

  #onListed(inf: Inf<T>): void {
    if (this.#closed || this.#abandoned.has(inf)) return;
    this.#lastActivity = this.#now();
    if (inf === this.#pending) {
      const old = this.#current;
      this.#current = inf;
      this.#pending = undefined;
      if (old) this.#abandon(old);
      if (this.#state === 'retrying') this.#o.log('info', `kubernetes: ${this.#o.name}: watching again (${this.#o.paths[this.#pathIndex] ?? ''})`);
      this.#state = 'synced';
      this.#staleSince = undefined;
      this.#lastError = undefined;
      this.#attempt = 0;
      this.#synced();
    }
    // A relist (first one, resync, or after 410 Gone inside the informer) may have changed anything.
    this.#o.onChange();
  }

  #fail(inf: Inf<T>, err: unknown): void {
    if (this.#closed || this.#abandoned.has(inf) || (inf !== this.#current && inf !== this.#pending)) return;
    const msg = describe(err);
    // Stop it but keep serving its cache if it was the current one.
    void inf.stop();
    this.#abandoned.add(inf);
    if (inf === this.#pending) this.#pending = undefined;
    if (statusOf(err) === 404 && this.#o.paths.length > 1) this.#pathIndex = (this.#pathIndex + 1) % this.#o.paths.length;
    this.#state = 'retrying';
    this.#staleSince ??= this.#now();
    this.#lastError = msg;
    this.#attempt++;
    const base = Math.min(this.#t.backoffMaxMs, this.#t.backoffInitialMs * 2 ** Math.min(20, this.#attempt - 1));
    const delay = Math.floor(base / 2 + (this.#o.random ?? Math.random)() * (base / 2));
    this.#o.log('warn', `kubernetes: ${this.#o.name}: ${msg}; serving the last known state, retrying in ${delay} ms`);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#spawn(), delay);
    this.#retryTimer.unref();
  }

  #checkWatchdog(): void {
    if (this.#state !== 'synced' || !this.#current) return;
    if (this.#now() - this.#lastActivity > this.#t.watchdogMs) this.#fail(this.#current, new Error(`watch silent for over ${this.#t.watchdogMs} ms (stalled)`));
  }

  #abandon(inf: Inf<T>): void {
    this.#abandoned.add(inf);
    void inf.stop();
  }
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  return typeof e.code === 'number' ? e.code : undefined;
}

function describe(err: unknown): string {
  const code = statusOf(err);
  const msg = err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err);
  return code !== undefined ? `HTTP ${code}: ${msg}` : msg;
}
