// `meshlet control-plane`: serve Istio YAML from a directory to sidecars.
import { startControlPlane } from '../../control-plane/index.js';
import { DEFAULT_TRUST_DOMAIN } from '../../control-plane/auth/index.js';
import { parseDuration } from '../../proxy/config/istio/duration.js';
import { setRegexLimits } from '../../proxy/config/index.js';
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
  'injector-port': { type: 'string', default: 'off', help: 'serve the sidecar-injection webhook (HTTPS POST /inject) on this port (Istio: 15017)' },
  'injector-host': { type: 'string', default: '0.0.0.0', help: 'injector bind address' },
  'injector-in-cluster': { type: 'boolean', default: false, help: 'keep the injector CA in a Secret and patch the webhook caBundle (needs --kubernetes)' },
  'injector-namespace': { type: 'string', default: 'meshlet-system', help: 'namespace of the CA Secret and the injector Service' },
  'injector-service': { type: 'string', default: 'meshlet-control-plane', help: 'Service the API server calls the webhook through' },
  'injector-secret': { type: 'string', default: 'meshlet-injector-ca', help: 'Secret holding the injector CA' },
  'injector-webhook-config': { type: 'string', default: 'meshlet-sidecar-injector', help: 'MutatingWebhookConfiguration whose caBundle is set' },
  'proxy-image': { type: 'string', default: 'meshlet:dev', help: 'image of the injected sidecar and init container' },
  'sidecar-mode': { type: 'string', default: 'native', help: 'native (initContainers, restartPolicy: Always; Kubernetes >= 1.29) | classic' },
  'sidecar-control-plane': { type: 'string', default: 'meshlet-control-plane.meshlet-system.svc:15010', help: 'control plane address written into injected sidecars' },
  'grpc-port': { type: 'string', default: '15010', help: 'gRPC port' },
  'grpc-host': { type: 'string', default: '0.0.0.0', help: 'gRPC bind address' },
  'metrics-port': { type: 'string', default: '15014', help: 'Prometheus /metrics port; off = none' },
  'ca-dir': { type: 'string', help: 'CA directory: a self-signed root is created there on first start and reused after' },
  'ca-cert': { type: 'string', help: 'CA certificate (root, or intermediate + chain) to sign with instead of --ca-dir ...' },
  'ca-key': { type: 'string', help: '... and its private key' },
  'trust-domain': { type: 'string', default: DEFAULT_TRUST_DOMAIN, help: 'SPIFFE trust domain of workload identities' },
  'cert-ttl': { type: 'string', default: '24h', help: 'workload certificate lifetime (sidecars rotate at half of it)' },
  'bootstrap-tokens': { type: 'string', help: 'YAML list of {token, nodeId, namespace, serviceAccount} for workloads outside Kubernetes' },
  'token-audience': { type: 'string', default: 'meshlet', help: 'with --kubernetes: audience the sidecars\' projected service-account tokens must carry (checked by TokenReview)' },
  'ca-secret': { type: 'string', default: 'meshlet-system/meshlet-ca', help: 'with --kubernetes and no --ca-dir/--ca-cert: NAMESPACE/NAME of the Secret holding the CA root (created on first start)' },
  insecure: { type: 'boolean', default: false, help: 'plaintext gRPC with no authentication (tests only; loudly logged)' },
  'tls-cert': { type: 'string', help: 'serve TLS with this certificate chain instead of one from the CA ...' },
  'tls-key': { type: 'string', help: '... and this private key' },
  'client-ca': { type: 'string', help: 'require client certificates signed by this CA' },
  'max-regex-program-size': { type: 'string', default: '100', help: "largest RE2 program a config regex may compile to (Envoy's max_program_size); larger ones are refused" },
  'max-config-bytes': { type: 'string', default: String(64 * 1024 * 1024), help: 'largest snapshot sent to a sidecar; a bigger one is not sent and the node shows ERROR in meshlet status' },
  'fault-ttl-ms': { type: 'string', default: '0', help: 'faults/mirrors expire on sidecars N ms after they lose the control plane (0 = never)' },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet control-plane (--config-dir DIR | --kubernetes [--kubeconfig FILE]) [flags]

Watches a directory of Istio YAML (ServiceEntry, VirtualService,
DestinationRule) and/or the Kubernetes API (every Service is a mesh
service; Istio CRDs apply as in the files; both together merge, files win
on clashes) and streams each sidecar its config over gRPC. The gRPC port
serves TLS with a certificate from the control plane's CA (--ca-dir, or
--ca-cert/--ca-key) and accepts only sidecars with a credential from
--bootstrap-tokens; --insecure turns all of that off.`,
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
  // Armed before start-up prints its "listening" line: a supervisor that
  // signals as soon as it reads it must reach this handler, not the default
  // one that kills the process mid-stream.
  let stop = (): void => undefined;
  const stopRequested = new Promise<void>((resolve) => {
    stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  let cp;
  try {
    const ttl = intFlag('fault-ttl-ms', f['fault-ttl-ms']);
    const certTtlMs = parseDuration(f['cert-ttl'] ?? '24h');
    if (certTtlMs === undefined || certTtlMs < 1000) throw new Error(`--cert-ttl must be a duration of at least 1s (e.g. 24h, 90m), got "${f['cert-ttl'] ?? ''}"`);
    const security = f.insecure
      ? ({ insecure: true } as const)
      : {
          ...(f['ca-dir'] ? { caDir: f['ca-dir'] } : {}),
          ...(f['ca-cert'] ? { caCertFile: f['ca-cert'] } : {}),
          ...(f['ca-key'] ? { caKeyFile: f['ca-key'] } : {}),
          ...(f['bootstrap-tokens'] ? { bootstrapTokensFile: f['bootstrap-tokens'] } : {}),
          ...(f['token-audience'] ? { tokenAudience: f['token-audience'] } : {}),
          ...(f['ca-secret'] ? { caSecret: f['ca-secret'] } : {}),
          trustDomain: f['trust-domain'] ?? DEFAULT_TRUST_DOMAIN,
          certTtlMs,
        };
    setRegexLimits({ maxProgramSize: intFlag('max-regex-program-size', f['max-regex-program-size']) });
    const kubeconfig = f.kubeconfig;
    const injectorPort = portOrOff('injector-port', f['injector-port']);
    const mode = f['sidecar-mode'];
    if (mode !== 'native' && mode !== 'classic') throw new Error(`--sidecar-mode must be native or classic, got "${mode ?? ''}"`);
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
      security,
      ...(certFile && keyFile ? { tls: { certFile, keyFile, ...(clientCaFile ? { clientCaFile } : {}) } } : {}),
      ...(ttl > 0 ? { faultTtlMs: ttl } : {}),
      ...(injectorPort >= 0
        ? {
            injector: {
              host: f['injector-host'] ?? '0.0.0.0',
              port: injectorPort,
              image: f['proxy-image'] ?? 'meshlet:dev',
              controlPlane: f['sidecar-control-plane'] ?? '',
              nativeSidecar: mode === 'native',
              ...(f['injector-in-cluster']
                ? {
                    cluster: {
                      namespace: f['injector-namespace'] ?? 'meshlet-system',
                      secretName: f['injector-secret'] ?? 'meshlet-injector-ca',
                      serviceName: f['injector-service'] ?? 'meshlet-control-plane',
                      webhookConfigName: f['injector-webhook-config'] ?? '',
                    },
                  }
                : {}),
            },
          }
        : {}),
      maxConfigBytes: intFlag('max-config-bytes', f['max-config-bytes']),
    });
  } catch (err) {
    stop();
    process.stderr.write(`control-plane: ${(err as Error).message}\n`);
    return 1;
  }
  // Graceful: end every stream so sidecars reconnect (with their config intact), then exit.
  await stopRequested;
  await cp.close();
  return 0;
}
