// `meshlet tap`: follows a sidecar's admin /tap NDJSON stream and prints one
// readable line per completed request (like `linkerd tap`). Filtering, the
// event cap and the duration are enforced by the proxy (observe/tap.ts); this
// command only builds the query, formats, and exits when the stream ends.
import { request, type IncomingMessage } from 'node:http';
import { flagsHelp, parseFlags, type FlagSpec } from '../flags.js';
import { GRPC_STATUS_NAMES } from '../../proxy/config/model/index.js';

const SPEC = {
  admin: { type: 'string', default: '127.0.0.1:15000', help: 'sidecar admin HOST:PORT' },
  destination: { type: 'string', help: 'only requests whose destination service or cluster contains S' },
  path: { type: 'string', help: 'only requests whose path starts with P' },
  status: { type: 'string', help: 'only this status class (5xx) or exact status (503)' },
  max: { type: 'string', default: '100', help: 'exit after N requests' },
  duration: { type: 'string', default: '60000', help: 'exit after MS milliseconds' },
  json: { type: 'boolean', default: false, help: 'print the raw NDJSON events' },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  'Usage: meshlet tap [--admin HOST:PORT] [--destination S] [--path P] [--status 5xx|503] [--max N] [--duration MS] [--json]\n\n' +
    'Streams live requests seen by one sidecar, one line each:\n' +
    '  TIME  DIRECTION  METHOD  AUTHORITY+PATH  STATUS  FLAGS  DURATION  upstream=HOST  id=X-REQUEST-ID',
  SPEC,
);

/** The fields of a tap event this command prints (a subset of observe/tap's TapEvent). */
interface TapLine {
  start_time?: string;
  direction?: string;
  method?: string;
  authority?: string;
  path?: string;
  response_code?: number;
  response_flags?: string;
  protocol?: string;
  grpc_status?: number | null;
  duration?: number;
  upstream_host?: string | null;
  upstream_cluster?: string | null;
  attempt_count?: number;
  x_request_id?: string;
}

export function formatTapLine(e: TapLine): string {
  const retries = e.attempt_count !== undefined && e.attempt_count > 1 ? `  retries=${e.attempt_count - 1}` : '';
  // gRPC: the path is /package.Service/Method; the call's outcome is its grpc-status, not the HTTP 200.
  const grpc = e.protocol === 'grpc' ? `  grpc-status=${e.grpc_status != null ? `${GRPC_STATUS_NAMES[e.grpc_status] ?? e.grpc_status}(${e.grpc_status})` : '-'}` : '';
  return (
    `${e.start_time ?? '-'}  ${e.direction ?? '-'}  ${e.protocol === 'grpc' ? 'gRPC' : (e.method ?? '-')}  ${e.authority ?? ''}${e.path ?? ''}` +
    `  ${e.response_code ?? 0}${grpc}  flags=${e.response_flags || '-'}  ${e.duration ?? 0}ms` +
    `  upstream=${e.upstream_host ?? '-'}${retries}  id=${e.x_request_id ?? '-'}`
  );
}

function positiveInt(name: string, v: string | undefined): number | string {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n > 0 ? n : `--${name} must be a positive integer, got "${v ?? ''}"`;
}

export async function run(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, SPEC).flags;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${help}`);
    return 2;
  }
  const max = positiveInt('max', flags.max);
  const duration = positiveInt('duration', flags.duration);
  if (typeof max === 'string' || typeof duration === 'string') {
    process.stderr.write(`${typeof max === 'string' ? max : duration}\n`);
    return 2;
  }
  const q = new URLSearchParams({ max: String(max), duration: String(duration) });
  if (flags.destination) q.set('destination', flags.destination);
  if (flags.path) q.set('path', flags.path);
  if (flags.status) q.set('status', flags.status);
  const admin = flags.admin ?? '127.0.0.1:15000';
  const colon = admin.lastIndexOf(':');
  const host = colon > 0 ? admin.slice(0, colon).replace(/^\[|\]$/g, '') : admin;
  const port = colon > 0 ? Number(admin.slice(colon + 1)) : 15000;
  return follow(host, port, `/tap?${q.toString()}`, max, duration, flags.json);
}

function follow(host: string, port: number, path: string, max: number, durationMs: number, raw: boolean): Promise<number> {
  return new Promise((resolve) => {
    let seen = 0;
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      process.off('SIGINT', onInt);
      req.destroy();
      resolve(code);
    };
    const onInt = (): void => finish(0);
    process.once('SIGINT', onInt);
    // The proxy ends the stream at the duration; this guard covers a proxy that stops answering.
    const guard = setTimeout(() => finish(0), durationMs + 5000);
    const req = request({ host, port, path, method: 'GET' }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          process.stderr.write(`tap: ${host}:${port} answered ${res.statusCode}: ${body.trim()}\n`);
          finish(1);
        });
        return;
      }
      process.stderr.write(`tapping ${host}:${port} (max ${max}, ${durationMs} ms)\n`);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while (!finished && (nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim() === '') continue;
          let out = line;
          if (!raw) {
            try {
              out = formatTapLine(JSON.parse(line) as TapLine);
            } catch {
              // Not JSON: show it as is rather than lose it.
            }
          }
          process.stdout.write(out + '\n');
          if (++seen >= max) finish(0);
        }
      });
      res.on('end', () => finish(0));
      res.on('error', () => finish(seen > 0 ? 0 : 1));
    });
    req.on('error', (err) => {
      if (finished) return;
      process.stderr.write(`tap: cannot reach the admin port at ${host}:${port}: ${err.message}\n`);
      finish(1);
    });
    req.end();
  });
}
