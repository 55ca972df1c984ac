// Control-plane composition root: files → store (+ DNS overlay) → per-node
// snapshots → gRPC streams, with metrics beside it. Nothing else wires modules.
import { readFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import type { ConfigIssue } from '../proxy/config/model/index.js';
import { experimentFaults, formatIssue, isError } from '../proxy/config/model/index.js';
import { loadSecurity, type ControlPlaneSecurity, type LoadedSecurity } from './auth/index.js';
import { SnapshotBuilder } from './build/index.js';
import { boundPort, ControlPlaneMetrics, serveMetrics } from './metrics/index.js';
import { DiscoveryServer, type ExperimentControl, type TlsFiles } from './server/index.js';
import { DnsResolver, ExperimentOverlays, MeshSources, type ConfigLoader, type KubernetesOptions } from './sources/index.js';
import { ConfigStore } from './store/index.js';
import { checkPodIdentity } from './sources/kubernetes/pod-identity.js';
import { startInjector, type InjectorOptions, type RunningInjector } from './injector-runner.js';

export interface ControlPlaneOptions {
  /** Directory of Istio YAML; optional when the Kubernetes source is on (then merged, files win). */
  readonly configDir?: string;
  /** Watch the Kubernetes API (Services, EndpointSlices, Pods, Namespaces, Istio CRDs). */
  readonly kubernetes?: KubernetesOptions;
  /** Serve the sidecar-injection webhook (HTTPS POST /inject). */
  readonly injector?: InjectorOptions;
  readonly grpcPort: number;
  readonly grpcHost: string;
  /** Prometheus port; 0 = any free port, -1 = no metrics listener. */
  readonly metricsPort: number;
  /**
   * Required, so every caller decides: `{ insecure: true }` (plaintext, no
   * authentication, loudly logged) or the CA + credentials the gRPC port
   * authenticates with (TLS with a certificate from that CA).
   */
  readonly security: ControlPlaneSecurity;
  /** A serving certificate of your own instead of one from the CA. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string };
  /** Push debounce: quiet time (default 100 ms) and cap (default 10 s). */
  readonly debounceMs?: number;
  readonly debounceMaxMs?: number;
  /** File watch debounce (default 100 ms) and fallback rescan period (default 2 s). */
  readonly watchDebounceMs?: number;
  readonly rescanMs?: number;
  /** DNS refresh period for `discovery: 'dns'` clusters (default 5 s). */
  readonly dnsRefreshMs?: number;
  /** TTL on virtual hosts with faults/mirrors (default none: they persist like all config). */
  readonly faultTtlMs?: number;
  /** Server keepalive (default 30 s / 10 s). */
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  /** Largest snapshot sent to a sidecar (gRPC max message length; default 64 MiB). */
  readonly maxConfigBytes?: number;
  /** Replaces the Istio loader (tests, other sources). */
  readonly load?: ConfigLoader;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export interface RunningControlPlane {
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly server: DiscoveryServer;
  readonly store: ConfigStore;
  /** The root sidecars verify the control plane with (PEM); undefined with --insecure. */
  readonly rootCertPem: string | undefined;
  /** The injection webhook, when enabled: its port and the CA its certificate chains to. */
  readonly injector: RunningInjector | undefined;
  close(): Promise<void>;
}

const stderrLog = (level: string, msg: string): void => void process.stderr.write(`${new Date().toISOString()} ${level} control-plane: ${msg}\n`);

export async function startControlPlane(opts: ControlPlaneOptions): Promise<RunningControlPlane> {
  const log = opts.log ?? stderrLog;
  const metrics = new ControlPlaneMetrics();
  const builder = new SnapshotBuilder({ faultTtlMs: opts.faultTtlMs });
  let server: DiscoveryServer | undefined;
  const store = new ConfigStore(() => server?.onStoreChange());
  const dns = new DnsResolver({
    intervalMs: opts.dnsRefreshMs,
    onChange: (cluster, endpoints) => {
      log('info', `dns: ${cluster} → ${endpoints.map((e) => e.address).join(', ') || '(none)'}`);
      store.setResolvedEndpoints(cluster, endpoints);
    },
    onError: (cluster, name, err) => log('warn', `dns: ${cluster}: lookup ${name} failed (keeping previous addresses): ${err.message}`),
  });
  const overlays = new ExperimentOverlays();
  // Live experiment faults; when the earliest expires, reload: the overlay drops out (new generation).
  let live: ReturnType<typeof experimentFaults> = [];
  let expiry: NodeJS.Timeout | undefined;
  let lastReported = '';
  let lastVersion = '';
  const files = new MeshSources({
    ...(opts.configDir !== undefined ? { configDir: opts.configDir } : {}),
    ...(opts.kubernetes ? { kubernetes: opts.kubernetes } : {}),
    load: opts.load ?? overlays.loader(),
    overlays: () => overlays.resources(),
    watchDebounceMs: opts.watchDebounceMs,
    rescanMs: opts.rescanMs,
    log,
    onRejected: (issues: readonly ConfigIssue[]) => {
      metrics.configErrors.inc();
      store.setIssues(issues);
      log('error', `config rejected, keeping the last good state (${issues.length} issue(s)):\n  ${issues.map(formatIssue).join('\n  ')}`);
    },
    onConfig: (config, issues) => {
      // Validate before push: what a sidecar would NACK is never sent.
      const refused = store.setConfig(config);
      if (refused.length > 0) {
        metrics.configErrors.inc();
        log('error', `config refused before push, keeping the last good state (${refused.length} issue(s)):\n  ${refused.map(formatIssue).join('\n  ')}`);
        return;
      }
      const changed = lastVersion !== config.version;
      lastVersion = config.version;
      // Warnings and notes are logged below; status lists only what was refused or left out.
      store.setIssues(issues.filter(isError));
      // Resources left out (Kubernetes mode): reported once per distinct set, not on every watch event.
      const report = issues.map(formatIssue).join('\n  ');
      if (report !== lastReported && issues.length > 0) log('warn', `config applied with ${issues.length} issue(s):\n  ${report}`);
      lastReported = report;
      if (changed) {
        log('info', `config loaded: ${config.services.length} services, ${config.clusters.length} clusters, ${config.virtualHosts.length} virtual hosts (generation ${store.generation()})`);
      }
      void dns.update(config.clusters);
      const before = live;
      live = experimentFaults(config);
      for (const e of live) if (!before.some((b) => b.experiment === e.experiment && b.host === e.host)) log('info', `experiment ${e.experiment}: fault on ${e.host} applied until ${new Date(e.expiresAt).toISOString()} (generation ${store.generation()})`);
      for (const e of before) {
        if (live.some((l) => l.experiment === e.experiment && l.host === e.host)) continue;
        log('info', `experiment ${e.experiment}: fault on ${e.host} ${e.expiresAt <= Date.now() ? 'expired (TTL)' : 'removed'} (generation ${store.generation()})`);
      }
      if (expiry !== undefined) clearTimeout(expiry);
      const next = Math.min(...live.map((e) => e.expiresAt));
      if (Number.isFinite(next)) {
        expiry = setTimeout(() => {
          overlays.prune();
          void files.reload();
        }, Math.max(0, next - Date.now()) + 5);
        expiry.unref();
      }
    },
  });
  const experiments: ExperimentControl = {
    async apply(name, yaml, ttlMs) {
      const set = overlays.set(name, yaml, ttlMs);
      if (!set.ok) return { ok: false, reason: set.issues.map(formatIssue).join('; ') };
      const before = new Set(store.issues().map(formatIssue));
      await files.reload();
      // With Kubernetes, unrelated objects may already be left out: only new issues refuse the overlay.
      const bad = opts.kubernetes ? store.issues().filter((i) => !before.has(formatIssue(i))) : store.issues();
      if (bad.length > 0) {
        // Refused as a whole: take it out again so the next reload is clean.
        overlays.delete(name);
        await files.reload();
        return { ok: false, reason: bad.map(formatIssue).join('; ') };
      }
      return { ok: true, generation: store.generation(), expiresAt: set.expiresAt };
    },
    async remove(name) {
      const removed = overlays.delete(name);
      if (removed) await files.reload();
      return { generation: store.generation(), removed };
    },
  };

  let security: LoadedSecurity | undefined;
  if ('insecure' in opts.security && opts.security.insecure === true) {
    log('warn', '*** --insecure: the gRPC port is PLAINTEXT and UNAUTHENTICATED: anyone who reaches it can subscribe as any node and read the whole mesh. Never use this outside a test. ***');
  } else {
    // Kubernetes: sidecars prove who they are with their pod's service-account token; the CA may live in a Secret.
    const kube = opts.kubernetes ? await import('./sources/kubernetes/index.js') : undefined;
    const secure = kube && opts.kubernetes ? { ...opts.security, kubeConfig: kube.loadKubeConfig(opts.kubernetes.kubeconfig) } : opts.security;
    security = await loadSecurity(secure, opts.grpcHost, (msg) => log('info', msg));
    log('info', `CA: trust domain ${security.trustDomain}, workload certificates valid ${Math.round(security.certTtlMs / 1000)}s, ${security.credentials} bootstrap credential(s)`);
  }
  let tls: TlsFiles | undefined = security ? { cert: security.serving.cert, key: security.serving.key } : undefined;
  if (opts.tls) {
    tls = {
      cert: await readFile(opts.tls.certFile),
      key: await readFile(opts.tls.keyFile),
      clientCa: opts.tls.clientCaFile ? await readFile(opts.tls.clientCaFile) : undefined,
    };
  }
  server = new DiscoveryServer({
    store,
    builder,
    metrics,
    debounceMs: opts.debounceMs,
    debounceMaxMs: opts.debounceMaxMs,
    heartbeatMs: opts.faultTtlMs ? Math.max(50, Math.floor(opts.faultTtlMs / 2)) : undefined,
    keepaliveTimeMs: opts.keepaliveTimeMs,
    keepaliveTimeoutMs: opts.keepaliveTimeoutMs,
    ...(security ? { security: { authenticator: security.authenticator, issuer: { ca: security.ca, trustDomain: security.trustDomain, certTtlMs: security.certTtlMs } } } : {}),
    maxConfigBytes: opts.maxConfigBytes,
    log,
    experiments,
    sources: () => files.status(),
    // Kubernetes: a sidecar that names its pod must match the Pod object (one outside the cluster names none).
    ...(opts.kubernetes
      ? {
          checkNode: (n) => {
            if (!n.podName) return { ok: true };
            const pods = files.kubernetes?.pods;
            if (pods === undefined) return { ok: false, kind: 'retry', reason: 'the Kubernetes source has not started yet' };
            const claim = { podName: n.podName, namespace: n.namespace, podIp: n.podIp ?? '', serviceAccount: n.serviceAccount ?? '', labels: n.labels };
            return checkPodIdentity(claim, pods.get(n.podName, n.namespace));
          },
        }
      : {}),
  });
  // Load (and resolve DNS) before listening, so the first subscribers get a full snapshot.
  await files.start();
  const dnsClusters = store.current()?.clusters.filter((c) => c.discovery === 'dns') ?? [];
  if (dnsClusters.length > 0) await dns.refresh();
  let metricsServer: HttpServer | undefined;
  let injector: RunningInjector | undefined;
  let port: number;
  try {
    port = await server.listen(opts.grpcHost, opts.grpcPort, tls);
    if (opts.metricsPort >= 0) metricsServer = await serveMetrics(metrics, opts.metricsPort, opts.grpcHost);
    const mesh = security ? { caRootPem: security.ca.rootPem, tokenAudience: ('tokenAudience' in opts.security ? opts.security.tokenAudience : undefined) ?? 'meshlet' } : undefined;
    if (opts.injector) injector = await startInjector(opts.injector, files.kubernetes, log, mesh);
  } catch (err) {
    metricsServer?.close();
    files.close();
    dns.close();
    await server.close(0);
    throw err;
  }
  log('info', `listening on ${opts.grpcHost}:${port}${metricsServer ? `, metrics on :${boundPort(metricsServer)}` : ''}${injector ? `, injector on :${injector.port}` : ''} (gRPC ${tls ? 'TLS' : 'PLAINTEXT, --insecure'})`);

  let closing: Promise<void> | undefined;
  const running: RunningControlPlane = {
    port,
    metricsPort: metricsServer ? boundPort(metricsServer) : undefined,
    server,
    store,
    rootCertPem: security?.ca.rootPem,
    injector,
    close() {
      closing ??= (async () => {
        if (expiry !== undefined) clearTimeout(expiry);
        files.close();
        dns.close();
        await injector?.close();
        await server.close();
        if (metricsServer) {
          metricsServer.closeAllConnections();
          await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        }
      })();
      return closing;
    },
  };
  return running;
}
