// A plain client for tests: one request, full response, no proxy magic.
import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Req {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  agent?: Agent | false;
  timeoutMs?: number;
}

export function send(port: number, r: Req = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { ...(r.headers ?? {}) };
    if (r.host !== undefined) headers['host'] = r.host;
    const req = httpRequest(
      { host: '127.0.0.1', port, method: r.method ?? 'GET', path: r.path ?? '/', headers, agent: r.agent ?? false, timeout: r.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Writes raw bytes on a fresh TCP connection and returns everything read until the peer closes (or timeout). */
export function rawExchange(port: number, bytes: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const t = setTimeout(() => s.destroy(), timeoutMs);
    s.on('data', (c) => (out += c.toString()));
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', () => undefined);
    s.write(bytes);
  });
}

export function statusOf(raw: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}
