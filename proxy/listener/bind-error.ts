// server.listen for the proxy's listeners, failing with the shared ListenError
// (proxy/config/listen/listen-error.ts): one line naming the address, the reason and
// the flag, and no half-started proxy left answering on the ports it did get.
import type { Server } from 'node:http';
import { explainListenError, ListenError } from '../config/listen/listen-error.js';

export { ListenError as BindError, explainListenError as explainBindError };

/** server.listen as a promise that rejects with a ListenError. */
/** `exclusive`: never share the socket with other node:cluster workers (a worker's private port). */
export function listenOn(server: Server, port: number, host: string, flag: string, exclusive = false): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(explainListenError(err, host, port, flag));
    server.once('error', onError);
    server.listen({ port, host, exclusive }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
