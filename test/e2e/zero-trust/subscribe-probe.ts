// Config subscribers as an attacker (or an honest sidecar) would write them,
// run inside a rig pod against the control plane over the bridge:
//   node --import tsx subscribe-probe.ts HOST:PORT ROOT_PEM (TOKEN_FILE|- NODE_ID)...
// For each pair, in order: TLS verified against the mesh root, the bearer
// token sent when a file is given, StreamConfig opened, a Subscribe as
// NODE_ID; one JSON line per pair says how the stream ended (its gRPC status,
// or "config" when a config arrived) and how many resources it was sent.
// Each probe gives up after 15 s.
import { readFileSync } from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import { loadDiscoveryProto } from '../../../proto/load.js';
import type { DiscoveryResponse__Output } from '../../../proto/gen/meshlet/v1/DiscoveryResponse.js';

interface Outcome {
  readonly outcome: 'config' | 'status' | 'timeout';
  readonly code?: number;
  readonly details?: string;
  readonly resources: number;
}

const [target = '', rootFile = '', ...pairs] = process.argv.slice(2);
const Client = loadDiscoveryProto().meshlet.v1.MeshDiscovery;
const root = readFileSync(rootFile);

function probe(tokenFile: string, nodeId: string): Promise<Outcome> {
  // A channel per probe: nothing of one attempt carries over to the next.
  const client = new Client(target, credentials.createSsl(root));
  const md = new Metadata();
  if (tokenFile !== '-') md.set('authorization', `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`);
  const call = client.StreamConfig(md);
  let resources = 0;
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Omit<Outcome, 'resources'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      call.cancel();
      client.close();
      resolve({ ...o, resources });
    };
    const timer = setTimeout(() => finish({ outcome: 'timeout' }), 15_000);
    call.on('data', (res: DiscoveryResponse__Output) => {
      resources += res.resources.length;
      finish({ outcome: 'config' });
    });
    call.on('error', () => undefined);
    call.on('status', (s: { code: number; details: string }) => finish({ outcome: 'status', code: s.code, details: s.details }));
    call.write({ subscribe: { node: { id: nodeId, workload: nodeId, namespace: 'default', labels: { app: nodeId } }, currentVersion: '' } });
  });
}

for (let i = 0; i + 1 < pairs.length; i += 2) console.log(JSON.stringify(await probe(pairs[i]!, pairs[i + 1]!)));
process.exit(0);
