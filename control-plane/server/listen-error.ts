// The control plane's bind check: gRPC reports a busy port in its own words,
// so the port is probed first and failures explained with the shared ListenError.
import { createServer } from 'node:net';
import { explainListenError } from '../../proxy/config/listen/listen-error.js';

export { ListenError, explainListenError } from '../../proxy/config/listen/listen-error.js';

/**
 * Binds and releases `host:port` once, so a busy or forbidden port is reported
 * with node's own error code before gRPC tries it (gRPC also logs its wording).
 */
export function probePort(host: string, port: number, flag: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (err) => reject(explainListenError(err, host, port, flag)));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve()));
  });
}
