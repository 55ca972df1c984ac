// The process log (not the access log): pino, asynchronous, to stderr, so
// operational messages never block the event loop or mix with access logs.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env['MESHLET_LOG_LEVEL'] ?? 'info', name = 'meshlet'): Logger {
  return pino({ level, name, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: false }));
}
