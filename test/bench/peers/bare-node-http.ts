// Baseline: hand-written node:http forwarder with a keep-alive Agent and pipe().
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce, HOP_BY_HOP, peerArgs } from './peer-args.js';

const args = peerArgs(process.argv.slice(2));
const upstream = new URL(args.get('upstream') ?? 'http://127.0.0.1:8080');
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(args.get('connections') ?? '64') });

function strip(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const k in h) { const v = h[k]; if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v; }
  return out;
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const up = http.request({
    host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: strip(req.headers), agent,
  }, (ures) => {
    res.writeHead(ures.statusCode ?? 502, strip(ures.headers));
    ures.pipe(res);
  });
  up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
  req.pipe(up);
});
server.listen(Number(args.get('port') ?? '0'), '127.0.0.1', () => announce((server.address() as AddressInfo).port));
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(); agent.destroy(); process.exit(0); });
