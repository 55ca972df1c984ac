// The two reply shapes every admin endpoint uses (the worker's admin and the
// --concurrency primary's): pretty JSON with 200, or plain text with a status.
import type { ServerResponse } from 'node:http';

export function json(res: ServerResponse, body: unknown): void {
  const s = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

export function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
