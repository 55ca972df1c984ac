// WebSocket (HTTP/1.1 Upgrade) tunnelling: route like any request, pick an
// endpoint, ask undici for an upgraded socket, then splice the two sockets.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Endpoint } from '../upstream/endpoint.js';
import { forwardableRequestHeaders } from './hop-by-hop.js';

export function tunnelUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, ep: Endpoint, authority: string, path: string): void {
  const headers = forwardableRequestHeaders(req.headers);
  headers['host'] = authority;
  const handler: Dispatcher.DispatchHandler = {
    // undici 7 tells handler styles apart by this method: without it dispatch() throws.
    onRequestStart() {},
    onRequestUpgrade(_c, status: number, resHeaders: IncomingHttpHeaders, upstream: Duplex) {
      let head101 = `HTTP/1.1 ${status} Switching Protocols\r\n`;
      for (const k in resHeaders) {
        const v = resHeaders[k];
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) head101 += `${k}: ${one}\r\n`;
      }
      client.write(head101 + '\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client).on('error', () => upstream.destroy());
      client.pipe(upstream).on('error', () => client.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    },
    onResponseStart(_c, status: number) {
      // The upstream refused the upgrade with a plain response.
      client.end(`HTTP/1.1 ${status} Upgrade Refused\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    },
    onResponseData() {},
    onResponseEnd() {},
    onResponseError(_c, err: Error) {
      if (client.writable) client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nx-meshlet-flags: UC\r\nconnection: close\r\n\r\n`);
      void err;
    },
  };
  const upgrade = typeof req.headers.upgrade === 'string' ? req.headers.upgrade : 'websocket';
  try {
    ep.pool.dispatch({ method: 'GET', path, headers, upgrade }, handler);
  } catch {
    rejectUpgrade(client, 503, 'upstream unavailable');
  }
}

export function rejectUpgrade(client: Duplex, status: number, reason: string): void {
  const body = reason + '\n';
  client.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Service Unavailable'}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
}
