// `meshlet proxy`: the sidecar. Config from Istio YAML files (--config) or from
// the control plane (--control-plane); flags double as MESHLET_* env vars.
import cluster from 'node:cluster';
import { hostname } from 'node:os';
import { setRegexLimits } from '../../proxy/config/validate/re2-pattern.js';
import { isPathNormalization, PATH_NORMALIZATIONS, setPathNormalization } from '../../proxy/layers/route/normalize-path.js';
import { durationFlag, FlagError, flagsHelp, intFlag, parseOrUsage, parseLabels, portOrOff, secondsFlag, type FlagSpec, type Flags } from '../flags.js';
import { effectiveMaxConnections, openFileLimit } from '../../proxy/listener/connection-budget.js';
import type { RunOptions } from '../../proxy/run.js';
import { installLastResort } from '../last-resort.js';

const SPEC = {
  config: { type: 'string', help: 'Istio YAML file or directory (standalone mode)' },
  'control-plane': { type: 'string', help: 'control plane HOST:PORT (sidecar mode)' },
  'node-id': { type: 'string', help: 'node id sent to the control plane (default: the one --token-file allows; else workload~host~pid)', default: '' },
  'token-file': { type: 'string', help: 'bootstrap token proving this workload\'s identity to the control plane (re-read on every use)' },
  'ca-cert': { type: 'string', help: 'the control plane\'s root certificate (its --ca-dir/root-cert.pem), to verify it: a file, or the PEM itself (as the injector sets MESHLET_CA_CERT)' },
  'service-account': { type: 'string', default: 'default', help: 'service account of this workload (its identity: spiffe://<td>/ns/<namespace>/sa/<name>)' },
  'pod-name': { type: 'string', default: '', help: 'Kubernetes pod name (downward API), sent when subscribing; the control plane checks it, the pod IP and the service account against the Pod' },
  'pod-ip': { type: 'string', default: '', help: 'Kubernetes pod IP (downward API status.podIP), sent with --pod-name' },
  insecure: { type: 'boolean', default: false, help: 'talk to the control plane in plaintext without a credential (tests only)' },
  'outbound-port': { type: 'string', default: '15001', help: 'outbound listener port (the app\'s calls)' },
  'inbound-port': { type: 'string', default: '15006', help: 'inbound listener port (calls to the app)' },
  'app-port': { type: 'string', default: '0', help: 'local app port for inbound traffic (0 = no inbound listener)' },
  'app-address': { type: 'string', default: '127.0.0.1', help: 'local app address' },
  'listen-address': {
    type: 'string',
    help: 'address the outbound/inbound/metrics listeners bind (default: outbound 127.0.0.1 with --config, 0.0.0.0 with --control-plane; inbound and metrics 0.0.0.0)',
  },
  'admin-port': { type: 'string', default: '15000', help: 'admin port' },
  'admin-address': { type: 'string', default: '127.0.0.1', help: 'admin bind address (loopback unless you mean it)' },
  'metrics-port': { type: 'string', default: '15090', help: 'Prometheus port (/stats/prometheus, /healthz/ready); off = none' },
  namespace: { type: 'string', default: 'default', help: 'namespace of this workload (short host names resolve relative to it)' },
  workload: { type: 'string', default: '', help: 'workload name (metrics source_workload)' },
  labels: { type: 'string', default: '', help: 'workload labels k=v,... (app, version feed metrics)' },
  'access-log': { type: 'string', default: 'stdout', help: 'off | stdout | FILE' },
  'trace-sample-rate': { type: 'string', default: '0.01', help: 'sampling rate for requests without a decision (0..1)' },
  'trace-endpoint': { type: 'string', help: 'OTLP/HTTP endpoint for spans (else OTEL_EXPORTER_OTLP_ENDPOINT)' },
  'trace-inject': { type: 'string', default: 'b3multi', help: 'comma list of b3multi, b3, w3c to inject' },
  'max-header-bytes': { type: 'string', default: String(60 * 1024), help: 'request header size limit (431 above)' },
  'max-headers-count': { type: 'string', default: '100', help: 'most request headers accepted (431 above)' },
  'request-headers-timeout': { type: 'string', default: '10s', help: 'the whole request head must arrive within this (408 after); 0 = off' },
  'stream-idle-timeout': { type: 'string', default: '300s', help: 'no bytes either way on a request for this long: 408 (client) or 504 SI (upstream); 0 = off' },
  'max-connections': { type: 'string', default: '10000', help: 'downstream connections across outbound+inbound (more are refused; capped at half the fd limit)' },
  'drain-seconds': { type: 'string', default: '5', help: 'on SIGTERM/SIGINT: readiness 503, finish requests in flight for at most this long, then exit' },
  'buffer-limit': { type: 'string', default: String(1024 * 1024), help: 'largest request body copy kept for retries/mirroring (the body itself always streams)' },
  'idle-timeout': { type: 'string', default: '60000', help: 'downstream keep-alive idle timeout (ms)' },
  'dns-refresh': { type: 'string', default: '5000', help: 'DNS re-resolution interval for resolution: DNS entries (ms)' },
  'mirror-concurrency': { type: 'string', default: '64', help: 'mirror requests in flight, process-wide' },
  'outbound-traffic-policy': { type: 'string', default: 'ALLOW_ANY', help: 'ALLOW_ANY | REGISTRY_ONLY: destinations outside every ServiceEntry (a Sidecar resource overrides)' },
  'protocol-detection-timeout': { type: 'string', default: '100', help: 'ms to wait for a client\'s first bytes before treating the connection as opaque TCP' },
  'tcp-idle-timeout': { type: 'string', default: '3600000', help: 'idle timeout of proxied TCP connections (ms; Istio: 1 h)' },
  'h2-max-concurrent-streams': { type: 'string', default: '1000', help: 'HTTP/2: streams per downstream connection (SETTINGS_MAX_CONCURRENT_STREAMS; more are refused with REFUSED_STREAM)' },
  'h2-initial-window': { type: 'string', default: String(1 << 20), help: 'HTTP/2: per-stream flow-control window we grant, both listeners and upstream (SETTINGS_INITIAL_WINDOW_SIZE)' },
  'h2-connection-window': { type: 'string', default: String(4 << 20), help: 'HTTP/2: per-connection flow-control window we grant' },
  'path-normalization': { type: 'string', default: 'BASE', help: "Istio's pathNormalization: NONE | BASE | MERGE_SLASHES | DECODE_AND_MERGE_SLASHES (routing and upstream see the normalized path)" },
  'max-regex-program-size': { type: 'string', default: '100', help: "largest RE2 program a config regex may compile to (Envoy's max_program_size); larger ones are refused" },
  'max-config-bytes': { type: 'string', default: String(64 * 1024 * 1024), help: 'largest config message accepted from the control plane (sidecar mode)' },
  concurrency: { type: 'string', default: '1', help: 'worker processes sharing the listeners (like Envoy --concurrency)' },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp('Usage: meshlet proxy (--config PATH | --control-plane HOST:PORT) [flags]', SPEC);

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrUsage(argv, SPEC, help);
  if (parsed === undefined) return 2;
  const { flags } = parsed;
  if ((flags.config === undefined) === (flags['control-plane'] === undefined)) {
    process.stderr.write('meshlet proxy: give exactly one of --config PATH or --control-plane HOST:PORT\n\n' + help);
    return 2;
  }
  const cpAuth = controlPlaneAuth(flags);
  if (typeof cpAuth === 'string') {
    process.stderr.write(`meshlet proxy: ${cpAuth}\n\n${help}`);
    return 2;
  }
  const concurrency = intFlag('concurrency', flags.concurrency);
  setRegexLimits({ maxProgramSize: intFlag('max-regex-program-size', flags['max-regex-program-size']) });
  const normalization = (flags['path-normalization'] ?? 'BASE').toUpperCase();
  if (!isPathNormalization(normalization)) throw new FlagError(`--path-normalization must be one of ${PATH_NORMALIZATIONS.join(', ')}, got "${flags['path-normalization'] ?? ''}"`);
  setPathNormalization(normalization);
  if (concurrency > 1 && cluster.isPrimary) {
    // Workers share the data-plane listeners; the primary owns admin and metrics for all of them.
    let admin: { port: number; address: string; metricsPort: number; metricsAddress: string };
    try {
      const o = runOptions(flags, cpAuth).proxy;
      admin = { port: o.adminPort, address: o.adminAddress, metricsPort: o.metricsPort, metricsAddress: o.metricsAddress };
    } catch (err) {
      process.stderr.write(`meshlet proxy: ${(err as Error).message}\n`);
      return 2;
    }
    installLastResort('meshlet proxy');
    const { runWorkers } = await import('../../proxy/run-workers.js');
    return runWorkers({ concurrency, adminPort: admin.port, adminAddress: admin.address, metricsPort: admin.metricsPort, metricsAddress: admin.metricsAddress });
  }
  let options: RunOptions;
  try {
    options = runOptions(flags, cpAuth);
  } catch (err) {
    process.stderr.write(`meshlet proxy: ${(err as Error).message}\n`);
    return 2;
  }
  installLastResort('meshlet proxy');
  const { runProxy } = await import('../../proxy/run.js');
  return runProxy(options);
}

function positive(name: string, n: number): number {
  if (n < 1) throw new Error(`--${name} must be at least 1, got ${n}`);
  return n;
}

function runOptions(flags: Flags<typeof SPEC>, cpAuth: RunOptions['controlPlaneAuth']): RunOptions {
  const inject = (flags['trace-inject'] ?? '').split(',').map((s) => s.trim());
  const trafficPolicy = flags['outbound-traffic-policy'];
  if (trafficPolicy !== 'ALLOW_ANY' && trafficPolicy !== 'REGISTRY_ONLY') {
    throw new Error(`--outbound-traffic-policy must be ALLOW_ANY or REGISTRY_ONLY, got "${trafficPolicy ?? ''}"`);
  }
  const labels = parseLabels(flags.labels);
  const workload = flags.workload || labels['app'] || 'unknown';
  const cx = effectiveMaxConnections(positive('max-connections', intFlag('max-connections', flags['max-connections'])), openFileLimit());
  if (cx.clamped) process.stderr.write(`meshlet proxy: --max-connections lowered to ${cx.max}, half the open-file limit (ulimit -n)\n`);
  return {
    configPath: flags.config,
    controlPlane: flags['control-plane'],
    ...(cpAuth ? { controlPlaneAuth: cpAuth } : {}),
    explicitNodeId: (flags['node-id'] ?? '') !== '',
    drainMs: secondsFlag('drain-seconds', flags['drain-seconds']),
    maxConfigBytes: positive('max-config-bytes', intFlag('max-config-bytes', flags['max-config-bytes'])),
    ...(flags['pod-name'] ? { pod: { name: flags['pod-name'], ip: flags['pod-ip'] ?? '', serviceAccount: flags['service-account'] ?? 'default' } } : {}),
    proxy: {
      nodeId: flags['node-id'] || `${workload}~${hostname()}~${process.pid}`,
      namespace: flags.namespace ?? 'default',
      workload,
      labels,
      // Standalone: the outbound listener is for this host's apps only, so loopback
      // unless told otherwise. In a pod (sidecar mode) iptables keeps outsiders off it.
      listenAddress: flags['listen-address'] ?? (flags.config !== undefined ? '127.0.0.1' : '0.0.0.0'),
      inboundAddress: flags['listen-address'] ?? '0.0.0.0',
      metricsAddress: flags['listen-address'] ?? '0.0.0.0',
      outboundPort: intFlag('outbound-port', flags['outbound-port']),
      inboundPort: intFlag('inbound-port', flags['inbound-port']),
      appPort: intFlag('app-port', flags['app-port']),
      appAddress: flags['app-address'] ?? '127.0.0.1',
      adminPort: intFlag('admin-port', flags['admin-port']),
      adminAddress: flags['admin-address'] ?? '127.0.0.1',
      metricsPort: portOrOff('metrics-port', flags['metrics-port']),
      accessLog: flags['access-log'] ?? 'stdout',
      traceSampleRate: Number(flags['trace-sample-rate']),
      traceExportEndpoint: flags['trace-endpoint'],
      traceInject: { multi: inject.includes('b3multi'), single: inject.includes('b3'), w3c: inject.includes('w3c') },
      // No metrics port, no per-request Istio metrics either (the meshlet_* event counters stay).
      metrics: portOrOff('metrics-port', flags['metrics-port']) >= 0,
      maxHeaderBytes: intFlag('max-header-bytes', flags['max-header-bytes']),
      maxHeadersCount: positive('max-headers-count', intFlag('max-headers-count', flags['max-headers-count'])),
      requestHeadersTimeoutMs: durationFlag('request-headers-timeout', flags['request-headers-timeout']),
      streamIdleTimeoutMs: durationFlag('stream-idle-timeout', flags['stream-idle-timeout']),
      maxConnections: cx.max,
      bufferLimit: intFlag('buffer-limit', flags['buffer-limit']),
      idleTimeoutMs: intFlag('idle-timeout', flags['idle-timeout']),
      dnsRefreshMs: intFlag('dns-refresh', flags['dns-refresh']),
      mirrorConcurrency: intFlag('mirror-concurrency', flags['mirror-concurrency']),
      outboundTrafficPolicy: trafficPolicy,
      protocolDetectionTimeoutMs: intFlag('protocol-detection-timeout', flags['protocol-detection-timeout']),
      tcpIdleTimeoutMs: intFlag('tcp-idle-timeout', flags['tcp-idle-timeout']),
      worker: cluster.isWorker,
      h2: {
        maxConcurrentStreams: positive('h2-max-concurrent-streams', intFlag('h2-max-concurrent-streams', flags['h2-max-concurrent-streams'])),
        initialWindowSize: positive('h2-initial-window', intFlag('h2-initial-window', flags['h2-initial-window'])),
        connectionWindowSize: positive('h2-connection-window', intFlag('h2-connection-window', flags['h2-connection-window'])),
      },
    },
  };
}

/** The control plane's credentials from the flags; a string is the reason they are unusable. */
function controlPlaneAuth(flags: { 'control-plane': string | undefined; 'token-file': string | undefined; 'ca-cert': string | undefined; 'service-account': string | undefined; insecure: boolean }):
  | { caFile: string; tokenFile: string; serviceAccount: string }
  | undefined
  | string {
  if (flags['control-plane'] === undefined) return undefined;
  if (flags.insecure) {
    process.stderr.write('meshlet proxy: *** --insecure: the control plane connection is PLAINTEXT and UNAUTHENTICATED ***\n');
    return undefined;
  }
  const caFile = flags['ca-cert'];
  const tokenFile = flags['token-file'];
  if (caFile === undefined || tokenFile === undefined) {
    return `refusing to talk to the control plane in plaintext or without a credential: give --ca-cert (its root certificate) and --token-file (this workload's bootstrap token), or --insecure`;
  }
  return { caFile, tokenFile, serviceAccount: flags['service-account'] || 'default' };
}
