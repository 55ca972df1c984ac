// Peer: http-proxy 1.18.1 `proxy.web()` with a keep-alive Agent (maxSockets 64),
// the configuration libraries.md §3.1 measured.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';
import { announce, peerArgs } from './peer-args.js';

const args = peerArgs(process.argv.slice(2));
const target = args.get('upstream') ?? 'http://127.0.0.1:8080';
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const proxy = httpProxy.createProxyServer({ target, agent, xfwd: false });
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse) { if (!res.headersSent) res.writeHead(502); res.end(); }
  else res.destroy();
});
const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => proxy.web(req, res));
server.listen(Number(args.get('port') ?? '0'), '127.0.0.1', () => announce((server.address() as AddressInfo).port));
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(); agent.destroy(); process.exit(0); });
