// Process-level wiring for `meshlet proxy`: start the proxy, attach the
// config source, print where everything listens, drain on SIGTERM/SIGINT.
import { readFile } from 'node:fs/promises';
import type { WorkloadIdentity } from './identity/index.js';
import { createLogger } from './logger.js';
import { BindError } from './listener/index.js';
import { startProxy, type ProxyOptions, type RunningProxy } from './main.js';

export interface RunOptions {
  readonly configPath: string | undefined;
  readonly controlPlane: string | undefined;
  /** Authenticated control plane (absent = --insecure). */
  readonly controlPlaneAuth?: { readonly caFile: string; readonly tokenFile: string; readonly serviceAccount: string };
  /** Node id given explicitly; otherwise the one the credential allows (authenticated) or proxy.nodeId. */
  readonly explicitNodeId?: boolean;
  /** Drain window on SIGTERM/SIGINT (Istio's terminationDrainDuration). */
  readonly drainMs: number;
  /** Largest config message accepted from the control plane (gRPC max receive length). */
  readonly maxConfigBytes: number;
  /** What this sidecar says it is when it subscribes (Kubernetes: from the downward API; the control plane checks it against the Pod). */
  readonly pod?: { readonly name: string; readonly ip: string; readonly serviceAccount: string };
  readonly proxy: ProxyOptions;
}

export async function runProxy(r: RunOptions): Promise<number> {
  const log = createLogger();
  let stopping = false;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  let identity: WorkloadIdentity | undefined;
  let stopIdentity: () => void = () => undefined;
  let auth: import('./xds/index.js').ControlPlaneAuth | undefined;
  if (r.controlPlane !== undefined && r.controlPlaneAuth !== undefined) {
    const a = r.controlPlaneAuth;
    const [{ CertificateClient, tokenFromFile }, { WorkloadIdentity: Identity }] = await Promise.all([import('./xds/index.js'), import('./identity/index.js')]);
    let ca: Buffer;
    try {
      // The injector passes the root itself (MESHLET_CA_CERT=<PEM>); by hand it is a file path.
      ca = a.caFile.startsWith('-----BEGIN') ? Buffer.from(a.caFile) : await readFile(a.caFile);
    } catch (err) {
      process.stderr.write(`meshlet proxy: cannot read --ca-cert ${a.caFile}: ${(err as Error).message}\n`);
      return 1;
    }
    auth = { ca, token: tokenFromFile(a.tokenFile) };
    const certs = new CertificateClient(r.controlPlane, auth);
    const ns = r.proxy.namespace;
    identity = new Identity({
      namespace: ns,
      serviceAccount: a.serviceAccount,
      sign: (csr) => certs.create(csr, ns, a.serviceAccount),
      onIssued: (c) => log.info({ identity: c.spiffeId, node: c.nodeId, notAfter: c.notAfter.toISOString() }, 'workload certificate issued'),
      onError: (err, retryInMs) => log.warn({ retryInMs }, `workload certificate not obtained: ${err.message}`),
    });
    stopIdentity = () => {
      identity?.close();
      certs.close();
    };
  }
  let proxy: RunningProxy;
  try {
    const options = identity !== undefined && r.explicitNodeId !== true ? { ...r.proxy, nodeIdFromCredential: true } : r.proxy;
    proxy = await startProxy(options, log, () => void shutdown('quitquitquit'), identity);
  } catch (err) {
    if (!(err instanceof BindError)) throw err;
    process.stderr.write(`meshlet proxy: ${err.message}\n`);
    return 1;
  }
  let stopSource: () => void = () => undefined;

  if (r.configPath !== undefined) {
    // The YAML parser and the Istio translation load only in standalone mode: a sidecar fed by a control plane never pays their memory.
    const { startFileSource, issuesText } = await import('./standalone.js');
    const source = startFileSource(
      r.configPath,
      proxy.applyConfig,
      (issues) => proxy.rejectConfig(undefined, issues),
      log,
    );
    const issues = await source.reload();
    if (proxy.holder.current === undefined) {
      process.stderr.write(`meshlet proxy: invalid configuration in ${r.configPath}:\n${issuesText(issues)}\n`);
      source.close();
      await proxy.close();
      return 1;
    }
    await proxy.dnsSettled();
    stopSource = () => source.close();
  } else {
    // gRPC (and protobufjs) load only in sidecar mode: a standalone proxy never pays their memory.
    const { ConfigStreamClient } = await import('./xds/index.js');
    const subscribe = (nodeId: string): void => {
      const client = new ConfigStreamClient({
        target: r.controlPlane!,
        ...(auth ? { auth } : {}),
        node: {
          id: nodeId,
          workload: r.proxy.workload,
          namespace: r.proxy.namespace,
          labels: r.proxy.labels,
          ...(r.pod ? { podName: r.pod.name, podIp: r.pod.ip, serviceAccount: r.pod.serviceAccount } : {}),
        },
        apply: proxy.applyConfig,
        currentVersion: () => proxy.holder.current?.version,
        maxConfigBytes: r.maxConfigBytes,
        onState: (s) => log.info({ controlPlane: r.controlPlane, state: s }, 'control plane stream'),
        // Configs that failed to apply were already recorded by applyConfig itself.
        onReject: (version, issues, stage) => stage !== 'apply' && proxy.rejectConfig(version, issues),
      });
      client.start();
      stopSource = () => client.close();
    };
    if (identity === undefined) subscribe(r.proxy.nodeId);
    else {
      // Authenticated: subscribe once the CA has answered, as the node id the credential allows.
      void identity.start().ready().then((cert) => {
        if (!stopping) subscribe(r.explicitNodeId ? r.proxy.nodeId : cert.nodeId);
      });
    }
  }

  const listeners =
    `outbound=${r.proxy.listenAddress}:${proxy.outboundPort}` + (proxy.inboundPort > 0 ? ` inbound=${r.proxy.inboundAddress}:${proxy.inboundPort}` : '');
  const config = ` config=${proxy.holder.current?.version ?? 'pending'}\n`;
  // A --concurrency worker's admin is private; the primary prints the admin and metrics ports.
  const line =
    r.proxy.worker === true
      ? `meshlet proxy worker pid=${process.pid} ${listeners}${config}`
      : `meshlet proxy listening ${listeners} admin=${r.proxy.adminAddress}:${proxy.adminPort} metrics=${proxy.metricsPort}${config}`;
  // Handlers first: a supervisor that signals as soon as it reads the line
  // (stderr to a pipe is a synchronous write) must find them installed.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.stderr.write(line);

  async function shutdown(why: string): Promise<void> {
    if (stopping) {
      // A second signal: the operator wants out now.
      process.stderr.write(`meshlet proxy: ${why} during drain; exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    log.info({ why, drainMs: r.drainMs }, 'draining: readiness 503, finishing requests in flight');
    const outcome = await proxy.drain(r.drainMs);
    log.info({ why, outcome }, outcome === 'idle' ? 'drained; shutting down' : 'drain deadline reached; closing what is left');
    stopSource();
    stopIdentity();
    await proxy.close();
    resolveExit(0);
    // Idle upstream sockets may outlive the listeners: give them a moment, then leave.
    setTimeout(() => process.exit(0), 500).unref();
  }
  return exited;
}
