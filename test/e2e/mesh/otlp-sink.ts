// An OTLP/HTTP trace sink for the pod rig, run as its own process in the node
// namespace (the test process lives in the root namespace and cannot listen
// on the bridge). POST /v1/traces stores the decoded spans; GET /spans returns
// them all as JSON. Run: `node --import tsx test/e2e/mesh/otlp-sink.ts` with
// env PORT (default 4318) and HOST (default 0.0.0.0).
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { decodeTraces, type ReceivedSpan } from '../../support/otlp-receiver.js';

const spans: ReceivedSpan[] = [];
const port = Number(process.env['PORT'] ?? '4318');
const host = process.env['HOST'] ?? '0.0.0.0';

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/spans') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(spans));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/v1/traces') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      spans.push(...decodeTraces(body));
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(String(e));
      return;
    }
    // An empty ExportTraceServiceResponse is a zero-length protobuf message.
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});
server.listen(port, host, () => process.stdout.write(`otlp sink listening on ${host}:${port}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
