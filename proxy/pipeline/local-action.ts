// Routes that answer by themselves (VirtualService directResponse and
// redirect): the reply is written here and never reaches an upstream.
import type { ServerResponse } from 'node:http';
import type { RouteAction } from '../config/model/index.js';
import type { Exchange } from '../exchange/index.js';

export function writeLocalAction(ex: Exchange, res: ServerResponse, a: RouteAction, path: string, rawQuery: string): void {
  if (a.kind === 'direct') {
    const body = a.body ?? '';
    ex.status = a.status;
    ex.bytesOut = Buffer.byteLength(body);
    res.writeHead(a.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': ex.bytesOut });
    res.end(body);
  } else if (a.kind === 'redirect') {
    const host = a.authority ?? ex.authority.replace(/:\d+$/, '');
    const port = a.port !== undefined ? `:${a.port}` : '';
    const location = `${a.scheme ?? 'http'}://${host}${port}${a.uri ?? path}${rawQuery !== '' ? '?' + rawQuery : ''}`;
    ex.status = a.status;
    res.writeHead(a.status, { location, 'content-length': 0 });
    res.end();
  }
}
