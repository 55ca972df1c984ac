// An OTLP/HTTP trace sink for the pod rig, run as its own process in the node
// namespace (the test process lives in the root namespace and cannot listen
// on the bridge): the test receiver, listening on the bridge. POST /v1/traces
// stores the decoded spans; GET /spans returns them all as JSON. Run:
// `node --import tsx test/e2e/mesh/otlp-sink.ts` with env PORT (default 4318)
// and HOST (default 0.0.0.0).
import { startOtlpReceiver } from '../../support/otlp-receiver.js';

const port = Number(process.env['PORT'] ?? '4318');
const host = process.env['HOST'] ?? '0.0.0.0';
const receiver = await startOtlpReceiver({ host, port });
process.stdout.write(`otlp sink listening on ${host}:${port}\n`);
process.once('SIGTERM', () => void receiver.close().then(() => process.exit(0)));
