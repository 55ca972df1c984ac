// `meshlet control-plane`: serve Istio YAML from a directory to sidecars.
import { parseArgs } from 'node:util';
import { startControlPlane } from '../../control-plane/index.js';

export const help = `meshlet control-plane [flags]

Watches a directory of Istio YAML (ServiceEntry, VirtualService,
DestinationRule) and streams each sidecar its config over gRPC.

  --config-dir DIR       directory of *.yaml files (required)
  --grpc-port N          gRPC port (default 15010)
  --grpc-host HOST       bind address (default 0.0.0.0)
  --metrics-port N       Prometheus /metrics port (default 15014, -1 disables)
  --tls-cert FILE        serve TLS with this certificate chain ...
  --tls-key FILE         ... and this private key
  --client-ca FILE       require client certificates signed by this CA
  --fault-ttl-ms N       faults/mirrors expire on sidecars N ms after they lose the control plane

Every flag can also be set as MESHLET_<FLAG>, e.g. MESHLET_CONFIG_DIR.`;

const OPTIONS = {
  'config-dir': { type: 'string' },
  'grpc-port': { type: 'string' },
  'grpc-host': { type: 'string' },
  'metrics-port': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'client-ca': { type: 'string' },
  'fault-ttl-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A flag's value, else MESHLET_<FLAG_IN_UPPER_SNAKE>. */
function flag(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  if (typeof v === 'string') return v;
  return process.env[`MESHLET_${name.toUpperCase().replace(/-/g, '_')}`] || undefined;
}

function int(values: Record<string, unknown>, name: string, fallback: number): number {
  const raw = flag(values, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got "${raw}"`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${help}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(help + '\n');
    return 0;
  }
  const configDir = flag(values, 'config-dir');
  const certFile = flag(values, 'tls-cert');
  const keyFile = flag(values, 'tls-key');
  if (!configDir || (certFile === undefined) !== (keyFile === undefined)) {
    process.stderr.write(`${configDir ? '--tls-cert and --tls-key go together' : '--config-dir is required'}\n\n${help}\n`);
    return 2;
  }
  const clientCaFile = flag(values, 'client-ca');
  let cp;
  try {
    const ttl = int(values, 'fault-ttl-ms', 0);
    cp = await startControlPlane({
      configDir,
      grpcPort: int(values, 'grpc-port', 15010),
      grpcHost: flag(values, 'grpc-host') ?? '0.0.0.0',
      metricsPort: int(values, 'metrics-port', 15014),
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
