// The control plane's own Prometheus registry (never the global one, so an
// in-process sidecar and control plane in tests do not collide), served on
// --metrics-port at /metrics.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { explainListenError } from '../server/listen-error.js';

export class ControlPlaneMetrics {
  readonly registry = new Registry();
  readonly connectedSidecars = new Gauge({ name: 'meshlet_cp_connected_sidecars', help: 'Sidecars with an open config stream', registers: [this.registry] });
  readonly pushes = new Counter({ name: 'meshlet_cp_pushes_total', help: 'Snapshots sent to sidecars', registers: [this.registry] });
  readonly pushBytes = new Counter({
    name: 'meshlet_cp_push_bytes_total',
    help: 'Bytes of config sent to sidecars, by type: snapshot (whole) or endpoints (endpoint-only update)',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly pushDuration = new Histogram({
    name: 'meshlet_cp_push_duration_seconds',
    help: 'Time from a config change being pushed to all connected sidecars having ACKed or NACKed it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly nacks = new Counter({ name: 'meshlet_cp_nacks_total', help: 'Snapshots rejected by sidecars', registers: [this.registry] });
  readonly configErrors = new Counter({ name: 'meshlet_cp_config_errors_total', help: 'Config loads rejected (the last good config kept serving)', registers: [this.registry] });
  readonly certificatesIssued = new Counter({ name: 'meshlet_cp_certificates_issued_total', help: 'Workload certificates signed', registers: [this.registry] });
  readonly callsDenied = new Counter({
    name: 'meshlet_cp_calls_denied_total',
    help: 'gRPC calls refused by authentication or authorization, by reason (unauthenticated, permission_denied)',
    labelNames: ['rpc', 'reason'],
    registers: [this.registry],
  });
}

/** Serves GET /metrics; resolves with the bound server. Port 0 picks a free port. */
export function serveMetrics(metrics: ControlPlaneMetrics, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics' && !req.url?.startsWith('/metrics?')) {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(explainListenError(err, host, port, '--metrics-port')));
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
