// Process-level wiring for `meshlet proxy`: start the proxy, attach the
// config source, print where everything listens, shut down on SIGTERM.
import { createLogger } from './logger.js';
import { startProxy, type ProxyOptions } from './main.js';
import { startFileSource, issuesText } from './standalone.js';

export interface RunOptions {
  readonly configPath: string | undefined;
  readonly controlPlane: string | undefined;
  readonly proxy: ProxyOptions;
}

export async function runProxy(r: RunOptions): Promise<number> {
  const log = createLogger();
  let stopping = false;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (resolveExit = resolve));
  const proxy = await startProxy(r.proxy, log, () => void shutdown('quitquitquit'));
  let stopSource: () => void = () => undefined;

  if (r.configPath !== undefined) {
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
    const client = new ConfigStreamClient({
      target: r.controlPlane!,
      node: { id: r.proxy.nodeId, workload: r.proxy.workload, namespace: r.proxy.namespace, labels: r.proxy.labels },
      apply: proxy.applyConfig,
      currentVersion: () => proxy.holder.current?.version,
      onState: (s) => log.info({ controlPlane: r.controlPlane, state: s }, 'control plane stream'),
      onReject: (version, issues) => proxy.rejectConfig(version, issues),
    });
    client.start();
    stopSource = () => client.close();
  }

  const line =
    `meshlet proxy listening outbound=${r.proxy.listenAddress}:${proxy.outboundPort}` +
    (proxy.inboundPort > 0 ? ` inbound=${r.proxy.listenAddress}:${proxy.inboundPort}` : '') +
    ` admin=${r.proxy.adminAddress}:${proxy.adminPort} metrics=${proxy.metricsPort}` +
    ` config=${proxy.holder.current?.version ?? 'pending'}\n`;
  process.stderr.write(line);

  async function shutdown(why: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'shutting down');
    stopSource();
    await proxy.close();
    resolveExit(0);
    // Tunnelled WebSockets and idle upstream sockets may outlive the listeners:
    // give them a moment, then leave (the timer itself keeps nothing alive).
    setTimeout(() => process.exit(0), 500).unref();
  }
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  return exited;
}
