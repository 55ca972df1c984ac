// Entry point: `node dist/examples/bookinfo/service.js <role>` (or ROLE=...).
// See service-config.ts for the environment it reads.
import { readServiceConfig } from './service-config.js';
import { startBookinfo } from './bookinfo-server.js';

async function main(): Promise<void> {
  let cfg;
  try {
    cfg = readServiceConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`bookinfo: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const srv = await startBookinfo(cfg);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // Busy keep-alive sockets could hold close() open; don't wait forever.
    setTimeout(() => process.exit(0), 2000).unref();
    void srv.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Test rigs wait for this line, and may signal right after it: the handlers
  // above must already be installed or SIGTERM's default action kills us.
  process.stdout.write(`bookinfo ${cfg.role} ${cfg.version} pod=${cfg.pod} listening on ${cfg.host}:${srv.port}\n`);
}

void main().catch((err: unknown) => {
  process.stderr.write(`bookinfo: ${String(err)}\n`);
  process.exit(1);
});
