// TEST DOUBLE of the Kubernetes API server (none can run on these machines).
// A real HTTP server speaking the real list/watch protocol for exactly the
// resources Meshlet reads, so the real @kubernetes/client-node drives it:
//   GET <collection>                 → <Kind>List with metadata.resourceVersion
//   GET <collection>?watch=true      → 200, chunked JSON lines {type, object}
//     resourceVersion=N              → events after N; older than the retained
//                                      history → an ERROR event with a 410 Status
//     resourceVersion "" / "0"       → synthetic ADDED for every object first
//     allowWatchBookmarks=true       → periodic BOOKMARK events
//     timeoutSeconds=N               → the server ends the watch after N s
//   GET <collection>/<name>, PATCH/POST for the few writes the injector makes.
//   POST /apis/authentication.k8s.io/v1/tokenreviews → TokenReview with
//        status {authenticated, user{username, uid, groups, extra}, audiences}
//        for tokens from issueServiceAccountToken() (opaque strings here, JWTs
//        in a real cluster: the reviewer never parses them, only the API
//        server does), honouring spec.audiences like the real API.
// One global resourceVersion counter (like etcd). Faults a test can inject:
// dropWatches() (connection reset), stallWatches() (silent stall), compact()
// (history gone → 410), down()/up() (API server outage on the same port).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertAuthority, issueServingCert, type PemPair } from '../../control-plane/injector/serving-cert.js';

export interface FakeKind {
  /** `/api/v1` or `/apis/<group>/<version>` (one entry per served version). */
  readonly prefix: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Store shared by several served versions of one kind (`networking.istio.io/virtualservices`). */
  readonly storeKey?: string;
}

export type KubeObject = { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown }; [k: string]: unknown };

interface WatchEvent {
  readonly rv: number;
  readonly store: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObject;
}

interface Watcher {
  readonly kind: FakeKind;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
  stalled: boolean;
  timer?: NodeJS.Timeout;
}

const ISTIO = (plural: string, kind: string, v: string): FakeKind => ({ prefix: `/apis/networking.istio.io/${v}`, plural, kind, namespaced: true, storeKey: `istio/${plural}` });

export const MESHLET_KINDS: readonly FakeKind[] = [
  { prefix: '/api/v1', plural: 'services', kind: 'Service', namespaced: true },
  { prefix: '/api/v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { prefix: '/api/v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { prefix: '/api/v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { prefix: '/apis/admissionregistration.k8s.io/v1', plural: 'mutatingwebhookconfigurations', kind: 'MutatingWebhookConfiguration', namespaced: false },
  ...['v1', 'v1beta1'].flatMap((v) => [ISTIO('virtualservices', 'VirtualService', v), ISTIO('destinationrules', 'DestinationRule', v), ISTIO('serviceentries', 'ServiceEntry', v)]),
  ...['v1', 'v1beta1'].map((v): FakeKind => ({ prefix: `/apis/security.istio.io/${v}`, plural: 'authorizationpolicies', kind: 'AuthorizationPolicy', namespaced: true, storeKey: 'istio/authorizationpolicies' })),
];

/** The audience of tokens issued for the API server itself (a real cluster's --api-audiences default). */
export const API_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

interface ServiceAccountToken {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly pod?: string;
  readonly audiences: readonly string[];
}

const storeOf = (k: FakeKind): string => k.storeKey ?? `${k.prefix}/${k.plural}`;
const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class FakeKubeApiServer {
  readonly #kinds: readonly FakeKind[];
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  #history: WatchEvent[] = [];
  #rv = 100;
  #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #watchers = new Set<Watcher>();
  #bookmarkTimer: NodeJS.Timeout | undefined;
  #port = 0;
  /** Every request as `METHOD path?query`, for assertions (relists, bookmarks asked for). */
  readonly requests: string[] = [];

  readonly #tokens = new Map<string, ServiceAccountToken>();
  /** Every TokenReview asked for, for assertions (audiences sent, no token logged). */
  readonly tokenReviews: { readonly audiences: readonly string[]; readonly authenticated: boolean }[] = [];

  readonly #tls: PemPair;
  /** The CA that signed the serving certificate (the kubeconfig trusts it). */
  readonly caPem: string;

  private constructor(kinds: readonly FakeKind[], bookmarkMs: number, tls: PemPair, caPem: string) {
    this.#kinds = kinds;
    this.#tls = tls;
    this.caPem = caPem;
    this.#server = this.#makeServer();
    this.#bookmarkTimer = setInterval(() => this.#bookmark(), bookmarkMs);
    this.#bookmarkTimer.unref();
  }

  static async start(opts: { kinds?: readonly FakeKind[]; bookmarkMs?: number } = {}): Promise<FakeKubeApiServer> {
    // HTTPS like the real one (the client refuses plain HTTP without skipTLSVerify).
    const ca = await createCertAuthority('fake-kube-apiserver-ca');
    const tls = await issueServingCert(ca, ['localhost'], ['127.0.0.1']);
    const s = new FakeKubeApiServer(opts.kinds ?? MESHLET_KINDS, opts.bookmarkMs ?? 200, tls, ca.certPem);
    await s.up();
    return s;
  }

  get url(): string {
    return `https://127.0.0.1:${this.#port}`;
  }

  /** A kubeconfig file pointing at this server (trusting its CA; token auth the server ignores). */
  writeKubeconfig(): string {
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-kube-'));
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
      clusters: [{ name: 'fake', cluster: { server: this.url, 'certificate-authority-data': Buffer.from(this.caPem).toString('base64') } }],
      users: [{ name: 'fake', user: { token: 'test' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
    }));
    return file;
  }

  /** Create or replace (the kind is found by apiVersion + kind). */
  apply(obj: KubeObject): KubeObject {
    const kind = this.#kindFor(obj);
    const store = this.#store(storeOf(kind));
    const copy: KubeObject = structuredClone(obj);
    copy.metadata.resourceVersion = String(++this.#rv);
    copy.metadata['uid'] ??= `uid-${keyOf(copy)}`;
    const type = store.has(keyOf(copy)) ? 'MODIFIED' : 'ADDED';
    store.set(keyOf(copy), copy);
    this.#emit({ rv: this.#rv, store: storeOf(kind), type, object: copy });
    return copy;
  }

  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const k = this.#kindFor({ apiVersion, kind });
    const store = this.#store(storeOf(k));
    const key = `${namespace ?? ''}/${name}`;
    const old = store.get(key);
    if (!old) return;
    store.delete(key);
    const object = structuredClone(old);
    object.metadata.resourceVersion = String(++this.#rv);
    this.#emit({ rv: this.#rv, store: storeOf(k), type: 'DELETED', object });
  }

  /**
   * A projected service-account token (what the kubelet writes into a pod's
   * token volume): bound to the pod when `pod` is given, valid for
   * `audiences` (the API server's own audience when empty).
   */
  issueServiceAccountToken(namespace: string, serviceAccount: string, o: { pod?: string; audiences?: readonly string[] } = {}): string {
    const token = `fake-sa-token.${randomBytes(24).toString('base64url')}`;
    this.#tokens.set(token, { namespace, serviceAccount, ...(o.pod !== undefined ? { pod: o.pod } : {}), audiences: o.audiences ?? [API_AUDIENCE] });
    return token;
  }

  /** The token stops authenticating (service account deleted, pod gone). */
  revokeToken(token: string): void {
    this.#tokens.delete(token);
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#store(storeOf(this.#kindFor({ apiVersion, kind }))).get(`${namespace ?? ''}/${name}`);
  }

  /** Forget the event history: watches resuming from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.#history = [];
  }

  /** Reset every open watch connection (what a load balancer or apiserver restart does). */
  dropWatches(): void {
    for (const w of this.#watchers) w.res.socket?.destroy();
    this.#watchers.clear();
  }

  /** Keep watch connections open but send nothing more on them, never ending them (a silently stalled watch). */
  stallWatches(): void {
    for (const w of this.#watchers) {
      w.stalled = true;
      clearTimeout(w.timer);
    }
  }

  watchCount(): number {
    return this.#watchers.size;
  }

  /** Outage: stop listening and reset every connection. */
  async down(): Promise<void> {
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    for (const s of this.#sockets) s.destroy();
    this.#watchers.clear();
    await closed;
  }

  /** Listen (again, on the same port after down()). */
  async up(): Promise<void> {
    this.#server = this.#makeServer();
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    const addr = this.#server.address();
    if (addr && typeof addr === 'object') this.#port = addr.port;
  }

  async close(): Promise<void> {
    clearInterval(this.#bookmarkTimer);
    if (this.#server.listening) await this.down();
  }

  #makeServer(): Server {
    const server = createServer({ cert: this.#tls.certPem, key: this.#tls.keyPem }, (req, res) => this.#handle(req, res));
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    return server;
  }

  #kindFor(obj: { apiVersion?: string; kind?: string }): FakeKind {
    const av = obj.apiVersion ?? '';
    const prefix = av.includes('/') ? `/apis/${av}` : `/api/${av}`;
    const k = this.#kinds.find((x) => x.prefix === prefix && x.kind === obj.kind);
    if (!k) throw new Error(`fake apiserver: kind ${av} ${obj.kind ?? '?'} not served`);
    return k;
  }

  #store(key: string): Map<string, KubeObject> {
    let s = this.#objects.get(key);
    if (!s) this.#objects.set(key, (s = new Map()));
    return s;
  }

  /** The object as served under this kind's version (apiVersion rewritten, like multi-version CRDs). */
  #view(kind: FakeKind, o: KubeObject): KubeObject {
    const apiVersion = kind.prefix === '/api/v1' ? 'v1' : kind.prefix.slice('/apis/'.length);
    return { ...o, apiVersion, kind: kind.kind };
  }

  #route(pathname: string): { kind: FakeKind; namespace?: string; name?: string } | undefined {
    for (const kind of this.#kinds) {
      if (!pathname.startsWith(kind.prefix + '/')) continue;
      const parts = pathname.slice(kind.prefix.length + 1).split('/');
      if (parts[0] === kind.plural && parts.length <= 2) return { kind, ...(parts[1] ? { name: parts[1] } : {}) };
      if (kind.namespaced && parts[0] === 'namespaces' && parts[2] === kind.plural && parts.length <= 4) {
        return { kind, namespace: parts[1], ...(parts[3] ? { name: parts[3] } : {}) };
      }
    }
    return undefined;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method ?? 'GET'} ${url.pathname}${url.search}`);
    if (url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') return this.#tokenReview(req, res);
    const r = this.#route(url.pathname);
    if (!r) return status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const store = this.#store(storeOf(r.kind));
    if (req.method === 'GET' && r.name !== undefined) {
      const o = store.get(`${r.namespace ?? ''}/${r.name}`);
      return o ? json(res, 200, this.#view(r.kind, o)) : status(res, 404, 'NotFound', `${r.kind.plural} "${r.name}" not found`);
    }
    if (req.method === 'GET' && url.searchParams.get('watch') === 'true') return this.#watch(r.kind, r.namespace, url.searchParams, res);
    if (req.method === 'GET') {
      const items = [...store.values()].filter((o) => r.namespace === undefined || o.metadata.namespace === r.namespace).map((o) => this.#view(r.kind, o));
      return json(res, 200, { kind: `${r.kind.kind}List`, apiVersion: this.#view(r.kind, { metadata: { name: '' } }).apiVersion, metadata: { resourceVersion: String(this.#rv) }, items });
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return status(res, 400, 'BadRequest', 'body is not JSON');
      }
      if (req.method === 'POST') {
        const obj = parsed as KubeObject;
        if (store.has(keyOf({ ...obj, metadata: { ...obj.metadata, namespace: r.namespace ?? obj.metadata.namespace } }))) return status(res, 409, 'AlreadyExists', `${r.kind.plural} "${obj.metadata.name}" already exists`);
        const saved = this.apply({ ...this.#view(r.kind, obj), metadata: { ...obj.metadata, ...(r.namespace ? { namespace: r.namespace } : {}) } });
        return json(res, 201, saved);
      }
      if (req.method === 'PUT' && r.name !== undefined) return json(res, 200, this.apply(this.#view(r.kind, parsed as KubeObject)));
      return status(res, 405, 'MethodNotAllowed', `${req.method ?? ''} is not supported by this test double`);
    });
  }

  /** TokenReview (authentication.k8s.io/v1): create-only, answered in the status of the returned object. */
  #tokenReview(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST') return status(res, 405, 'MethodNotAllowed', 'tokenreviews only supports create');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      let review: { apiVersion?: string; kind?: string; spec?: { token?: string; audiences?: string[] } };
      try {
        review = JSON.parse(body) as typeof review;
      } catch {
        return status(res, 400, 'BadRequest', 'body is not JSON');
      }
      if (review.kind !== 'TokenReview' || typeof review.spec?.token !== 'string') return status(res, 400, 'BadRequest', 'expected a TokenReview with spec.token');
      const wanted = review.spec.audiences ?? [];
      const t = this.#tokens.get(review.spec.token);
      // The real API: the token must be valid for at least one requested audience (default: the API server's).
      const audiences = t === undefined ? [] : (wanted.length === 0 ? [API_AUDIENCE] : wanted).filter((a) => t.audiences.includes(a));
      const ok = t !== undefined && audiences.length > 0;
      this.tokenReviews.push({ audiences: wanted, authenticated: ok });
      const statusBody = ok
        ? {
            authenticated: true,
            user: {
              username: `system:serviceaccount:${t.namespace}:${t.serviceAccount}`,
              uid: `uid-sa-${t.namespace}-${t.serviceAccount}`,
              groups: ['system:serviceaccounts', `system:serviceaccounts:${t.namespace}`, 'system:authenticated'],
              ...(t.pod !== undefined ? { extra: { 'authentication.kubernetes.io/pod-name': [t.pod], 'authentication.kubernetes.io/pod-uid': [`uid-pod-${t.pod}`] } } : {}),
            },
            audiences,
          }
        : { authenticated: false, error: t === undefined ? 'invalid bearer token' : '[invalid bearer token, token audiences is invalid for the target audiences]' };
      json(res, 201, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec: review.spec, status: statusBody });
    });
  }

  #watch(kind: FakeKind, namespace: string | undefined, q: URLSearchParams, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const w: Watcher = { kind, res, bookmarks: q.get('allowWatchBookmarks') === 'true', stalled: false };
    const send = (type: string, object: unknown): void => void res.write(JSON.stringify({ type, object }) + '\n');
    const from = q.get('resourceVersion') ?? '';
    const inNs = (o: KubeObject): boolean => namespace === undefined || o.metadata.namespace === namespace;
    if (from === '' || from === '0') {
      for (const o of this.#store(storeOf(kind)).values()) if (inNs(o)) send('ADDED', this.#view(kind, o));
    } else {
      const rv = Number(from);
      const oldest = this.#history[0]?.rv ?? this.#rv + 1;
      if (rv < this.#rv && rv < oldest - 1) {
        send('ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${rv} (${oldest - 1})`, reason: 'Expired', code: 410 });
        res.end();
        return;
      }
      for (const e of this.#history) if (e.rv > rv && e.store === storeOf(kind) && inNs(e.object)) send(e.type, this.#view(kind, e.object));
    }
    this.#watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0)
      w.timer = setTimeout(() => {
        this.#watchers.delete(w);
        res.end();
      }, timeout * 1000);
    res.on('close', () => {
      clearTimeout(w.timer);
      this.#watchers.delete(w);
    });
  }

  #emit(e: WatchEvent): void {
    this.#history.push(e);
    for (const w of this.#watchers) {
      if (w.stalled || storeOf(w.kind) !== e.store || w.res.writableEnded) continue;
      w.res.write(JSON.stringify({ type: e.type, object: this.#view(w.kind, e.object) }) + '\n');
    }
  }

  #bookmark(): void {
    for (const w of this.#watchers) {
      if (w.stalled || !w.bookmarks || w.res.writableEnded) continue;
      const apiVersion = this.#view(w.kind, { metadata: { name: '' } }).apiVersion;
      w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: w.kind.kind, apiVersion, metadata: { resourceVersion: String(this.#rv) } } }) + '\n');
    }
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}
