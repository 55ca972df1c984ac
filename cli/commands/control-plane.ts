// `meshlet control-plane`: serve Istio YAML from a directory to sidecars.
import { startControlPlane } from '../../control-plane/index.js';
import { installLastResort } from '../last-resort.js';
import { flagsHelp, intFlag, parseOrUsage, portOrOff, type FlagSpec } from '../flags.js';

const SPEC = {
  'config-dir': { type: 'string', help: 'directory of Istio YAML files (required unless --kubernetes)' },
  kubernetes: { type: 'boolean', default: false, help: 'watch the Kubernetes API: Services, EndpointSlices, Pods, Namespaces, Istio CRDs' },
  kubeconfig: { type: 'string', help: 'kubeconfig file (default: in-cluster service account, else ~/.kube/config)' },
  'kube-backoff-max-ms': { type: 'string', default: '30000', help: 'longest (jittered) delay between watch restarts after errors' },
  'kube-watch-timeout-s': { type: 'string', default: '300', help: 'server-side watch timeout (each watch picks [t, 2t))' },
  'kube-watchdog-ms': { type: 'string', default: '1230000', help: 'restart a watch silent for this long (stalled)' },
  'kube-resync-ms': { type: 'string', default: '600000', help: 'full relist period (0 = never)' },
  'kube-sync-timeout-ms': { type: 'string', default: '10000', help: 'startup wait for the first list of every watch' },
  'grpc-port': { type: 'string', default: '15010', help: 'gRPC port' },
  'grpc-host': { type: 'string', default: '0.0.0.0', help: 'gRPC bind address' },
  'metrics-port': { type: 'string', default: '15014', help: 'Prometheus /metrics port; off = none' },
  'tls-cert': { type: 'string', help: 'serve TLS with this certificate chain ...' },
  'tls-key': { type: 'string', help: '... and this private key' },
  'client-ca': { type: 'string', help: 'require client certificates signed by this CA' },
  'max-config-bytes': { type: 'string', default: String(64 * 1024 * 1024), help: 'largest snapshot sent to a sidecar; a bigger one is not sent and the node shows ERROR in meshlet status' },
  'fault-ttl-ms': { type: 'string', default: '0', help: 'faults/mirrors expire on sidecars N ms after they lose the control plane (0 = never)' },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet control-plane (--config-dir DIR | --kubernetes [--kubeconfig FILE]) [flags]

Watches a directory of Istio YAML (ServiceEntry, VirtualService,
DestinationRule) and/or the Kubernetes API (every Service is a mesh
service; Istio CRDs apply as in the files; both together merge, files win
on clashes) and streams each sidecar its config over gRPC.`,
  SPEC,
);

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrUsage(argv, SPEC, help);
  if (parsed === undefined) return 2;
  const f = parsed.flags;
  const certFile = f['tls-cert'];
  const keyFile = f['tls-key'];
  const configDir = f['config-dir'];
  if ((!configDir && !f.kubernetes) || (certFile === undefined) !== (keyFile === undefined)) {
    process.stderr.write(`${configDir || f.kubernetes ? '--tls-cert and --tls-key go together' : '--config-dir or --kubernetes is required'}\n\n${help}`);
    return 2;
  }
  const clientCaFile = f['client-ca'];
  installLastResort('meshlet control-plane');
  let cp;
  try {
    const ttl = intFlag('fault-ttl-ms', f['fault-ttl-ms']);
    const kubeconfig = f.kubeconfig;
    cp = await startControlPlane({
      ...(configDir ? { configDir } : {}),
      ...(f.kubernetes
        ? {
            kubernetes: {
              ...(kubeconfig ? { kubeconfig } : {}),
              syncTimeoutMs: intFlag('kube-sync-timeout-ms', f['kube-sync-timeout-ms']),
              timing: {
                backoffMaxMs: intFlag('kube-backoff-max-ms', f['kube-backoff-max-ms']),
                watchTimeoutS: intFlag('kube-watch-timeout-s', f['kube-watch-timeout-s']),
                watchdogMs: intFlag('kube-watchdog-ms', f['kube-watchdog-ms']),
                resyncMs: intFlag('kube-resync-ms', f['kube-resync-ms']),
              },
            },
          }
        : {}),
      grpcPort: intFlag('grpc-port', f['grpc-port']),
      grpcHost: f['grpc-host'] ?? '0.0.0.0',
      metricsPort: portOrOff('metrics-port', f['metrics-port']),
      ...(certFile && keyFile ? { tls: { certFile, keyFile, ...(clientCaFile ? { clientCaFile } : {}) } } : {}),
      ...(ttl > 0 ? { faultTtlMs: ttl } : {}),
      maxConfigBytes: intFlag('max-config-bytes', f['max-config-bytes']),
    });
  } catch (err) {
    process.stderr.write(`control-plane: ${(err as Error).message}\n`);
    return 1;
  }
  const running = cp;
  // Graceful: end every stream so sidecars reconnect (with their config intact), then exit.
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await running.close();
  return 0;
}
