// `meshlet proxy`: the sidecar. Config from Istio YAML files (--config) or from
// the control plane (--control-plane); flags double as MESHLET_* env vars.
import cluster from 'node:cluster';
import { hostname } from 'node:os';
import { setRegexLimits } from '../../proxy/config/validate/re2-pattern.js';
import { flagsHelp, intFlag, parseOrUsage, parseLabels, portOrOff, type FlagSpec } from '../flags.js';

const SPEC = {
  config: { type: 'string', help: 'Istio YAML file or directory (standalone mode)' },
  'control-plane': { type: 'string', help: 'control plane HOST:PORT (sidecar mode)' },
  'node-id': { type: 'string', help: 'node id sent to the control plane', default: '' },
  'outbound-port': { type: 'string', default: '15001', help: 'outbound listener port (the app\'s calls)' },
  'inbound-port': { type: 'string', default: '15006', help: 'inbound listener port (calls to the app)' },
  'app-port': { type: 'string', default: '0', help: 'local app port for inbound traffic (0 = no inbound listener)' },
  'app-address': { type: 'string', default: '127.0.0.1', help: 'local app address' },
  'listen-address': { type: 'string', default: '0.0.0.0', help: 'address the outbound/inbound/metrics listeners bind' },
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
  'buffer-limit': { type: 'string', default: String(64 * 1024), help: 'largest request body buffered for retries/mirroring' },
  'idle-timeout': { type: 'string', default: '60000', help: 'downstream keep-alive idle timeout (ms)' },
  'dns-refresh': { type: 'string', default: '5000', help: 'DNS re-resolution interval for resolution: DNS entries (ms)' },
  'mirror-concurrency': { type: 'string', default: '64', help: 'mirror requests in flight, process-wide' },
  'max-regex-program-size': { type: 'string', default: '100', help: "largest RE2 program a config regex may compile to (Envoy's max_program_size); larger ones are refused" },
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
  const concurrency = intFlag('concurrency', flags.concurrency);
  setRegexLimits({ maxProgramSize: intFlag('max-regex-program-size', flags['max-regex-program-size']) });
  if (concurrency > 1 && cluster.isPrimary) {
    // Workers share the listening sockets; the primary only supervises.
    for (let i = 0; i < concurrency; i++) cluster.fork();
    cluster.on('exit', (w, code) => process.stderr.write(`meshlet: worker ${w.process.pid} exited with ${code}\n`));
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
        resolve();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    return 0;
  }
  const { runProxy } = await import('../../proxy/run.js');
  const inject = (flags['trace-inject'] ?? '').split(',').map((s) => s.trim());
  const labels = parseLabels(flags.labels);
  const workload = flags.workload || labels['app'] || 'unknown';
  return runProxy({
    configPath: flags.config,
    controlPlane: flags['control-plane'],
    proxy: {
      nodeId: flags['node-id'] || `${workload}~${hostname()}~${process.pid}`,
      namespace: flags.namespace ?? 'default',
      workload,
      labels,
      listenAddress: flags['listen-address'] ?? '0.0.0.0',
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
      bufferLimit: intFlag('buffer-limit', flags['buffer-limit']),
      idleTimeoutMs: intFlag('idle-timeout', flags['idle-timeout']),
      dnsRefreshMs: intFlag('dns-refresh', flags['dns-refresh']),
      mirrorConcurrency: intFlag('mirror-concurrency', flags['mirror-concurrency']),
    },
  });
}
