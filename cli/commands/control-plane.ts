// `meshlet control-plane`: serve Istio YAML from a directory to sidecars.
import { startControlPlane } from '../../control-plane/index.js';
import { setRegexLimits } from '../../proxy/config/index.js';
import { flagsHelp, intFlag, parseOrUsage, portOrOff, type FlagSpec } from '../flags.js';

const SPEC = {
  'config-dir': { type: 'string', help: 'directory of Istio YAML files (required)' },
  'grpc-port': { type: 'string', default: '15010', help: 'gRPC port' },
  'grpc-host': { type: 'string', default: '0.0.0.0', help: 'gRPC bind address' },
  'metrics-port': { type: 'string', default: '15014', help: 'Prometheus /metrics port; off = none' },
  'tls-cert': { type: 'string', help: 'serve TLS with this certificate chain ...' },
  'tls-key': { type: 'string', help: '... and this private key' },
  'client-ca': { type: 'string', help: 'require client certificates signed by this CA' },
  'max-regex-program-size': { type: 'string', default: '100', help: "largest RE2 program a config regex may compile to (Envoy's max_program_size); larger ones are refused" },
  'fault-ttl-ms': { type: 'string', default: '0', help: 'faults/mirrors expire on sidecars N ms after they lose the control plane (0 = never)' },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet control-plane --config-dir DIR [flags]

Watches a directory of Istio YAML (ServiceEntry, VirtualService,
DestinationRule) and streams each sidecar its config over gRPC.`,
  SPEC,
);

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrUsage(argv, SPEC, help);
  if (parsed === undefined) return 2;
  const f = parsed.flags;
  const certFile = f['tls-cert'];
  const keyFile = f['tls-key'];
  if (!f['config-dir'] || (certFile === undefined) !== (keyFile === undefined)) {
    process.stderr.write(`${f['config-dir'] ? '--tls-cert and --tls-key go together' : '--config-dir is required'}\n\n${help}`);
    return 2;
  }
  const clientCaFile = f['client-ca'];
  let cp;
  try {
    const ttl = intFlag('fault-ttl-ms', f['fault-ttl-ms']);
    setRegexLimits({ maxProgramSize: intFlag('max-regex-program-size', f['max-regex-program-size']) });
    cp = await startControlPlane({
      configDir: f['config-dir'],
      grpcPort: intFlag('grpc-port', f['grpc-port']),
      grpcHost: f['grpc-host'] ?? '0.0.0.0',
      metricsPort: portOrOff('metrics-port', f['metrics-port']),
      ...(certFile && keyFile ? { tls: { certFile, keyFile, ...(clientCaFile ? { clientCaFile } : {}) } } : {}),
      ...(ttl > 0 ? { faultTtlMs: ttl } : {}),
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
