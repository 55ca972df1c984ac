// A stand-in sidecar for rig tests until the Meshlet sidecar takes its place:
// outbound (15001) routes by Host header to a pod IP from ROUTES, inbound
// (15006) hands to the app on 127.0.0.1:APP_PORT, 15090 serves a counter.
// Each hop appends itself to the x-standin-hops response header, so a test
// can see the exact path a request took.
import http from 'node:http';

const env = process.env;
const pod = env['POD_NAME'] ?? 'unknown';
const appPort = Number(env['APP_PORT'] ?? 9080);
// service -> pod IPs, e.g. {"reviews":["10.244.0.12"]}
const routes = new Map<string, string[]>(Object.entries(JSON.parse(env['ROUTES'] ?? '{}') as Record<string, string[]>));
const counts = { outbound: 0, inbound: 0 };
const agent = new http.Agent({ keepAlive: true });
let rr = 0;

function forward(req: http.IncomingMessage, res: http.ServerResponse, opts: http.RequestOptions, hop: string): void {
  const up = http.request({ ...opts, method: req.method, path: req.url, headers: req.headers, agent }, (ur) => {
    const prev = ur.headers['x-standin-hops'];
    res.writeHead(ur.statusCode ?? 502, { ...ur.headers, 'x-standin-hops': prev ? `${String(prev)}, ${hop}` : hop });
    ur.pipe(res);
  });
  up.on('error', (err) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(503, { 'x-standin-hops': hop, 'x-standin-error': err.message }).end(`${hop}: ${err.message}\n`);
  });
  req.pipe(up);
}

const outbound = http.createServer((req, res) => {
  counts.outbound++;
  const hop = `outbound@${pod}`;
  const host = req.headers.host ?? '';
  const [name = '', port = '80'] = host.split(':');
  const ips = routes.get(name.split('.')[0] ?? '');
  if (!ips || ips.length === 0) {
    res.writeHead(404, { 'x-standin-hops': hop, 'x-standin-error': 'no route' }).end(`${hop}: no route for ${host}\n`);
    return;
  }
  forward(req, res, { host: ips[rr++ % ips.length], port: Number(port) }, hop);
});

const inbound = http.createServer((req, res) => {
  counts.inbound++;
  // Istio's passthrough source: the first ISTIO_OUTPUT rule lets it by.
  forward(req, res, { host: '127.0.0.1', port: appPort, localAddress: '127.0.0.6' }, `inbound@${pod}`);
});

const metrics = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`standin_requests_total{direction="outbound",pod="${pod}"} ${counts.outbound}\nstandin_requests_total{direction="inbound",pod="${pod}"} ${counts.inbound}\n`);
});

const servers = [outbound, inbound, metrics];
const ports = [Number(env['OUTBOUND_PORT'] ?? 15001), Number(env['INBOUND_PORT'] ?? 15006), Number(env['METRICS_PORT'] ?? 15090)];
process.on('SIGTERM', () => {
  for (const s of servers) s.close();
  agent.destroy();
  setTimeout(() => process.exit(0), 500).unref();
});
let ready = 0;
servers.forEach((s, i) =>
  // 0.0.0.0: REDIRECT in PREROUTING delivers to the pod IP, not 127.0.0.1.
  s.listen(ports[i], '0.0.0.0', () => {
    if (++ready === servers.length) process.stdout.write(`standin sidecar ${pod} listening on ${ports.join(',')}\n`);
  }),
);
