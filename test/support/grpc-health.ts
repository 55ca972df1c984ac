// grpc.health.v1 (proto/meshlet/v1/health.proto, the file the control plane serves too) for real grpc-js servers and
// clients: a server answers Check from a status table (unknown service →
// NOT_FOUND, as the protocol says); a client asks one Check.
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { ROOT } from './meshlet-process.js';

const def = loadSync(join(ROOT, 'proto/meshlet/v1/health.proto'), { keepCase: true, enums: String, defaults: true });
const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
export const HealthClient = pkg.grpc.health.v1.Health;

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** Adds Health/Check answering from `statuses` (service name → status; '' is the whole server). Watch is unimplemented. */
export function addHealthService(server: grpc.Server, statuses: ReadonlyMap<string, ServingStatus>): void {
  server.addService(HealthClient.service, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, { status: ServingStatus }>, cb: grpc.sendUnaryData<{ status: ServingStatus }>) => {
      const status = statuses.get(call.request.service);
      if (status === undefined) return cb({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      cb(null, { status });
    },
    Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'Watch' }),
  });
}

/** One Check: the status, or `error <code name>`. */
export function healthCheck(client: grpc.Client, service: string, deadlineMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    (client as unknown as { Check: (r: unknown, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: { status: string }) => void) => void }).Check(
      { service },
      { deadline: Date.now() + deadlineMs },
      (e, v) => resolve(e ? `error ${grpc.status[e.code]}` : v.status),
    );
  });
}
