// A config subscriber as an attacker (or an honest sidecar) would write one,
// run inside a rig pod against the control plane over the bridge:
//   node --import tsx subscribe-probe.ts HOST:PORT ROOT_PEM TOKEN_FILE|- NODE_ID
// TLS is verified against the mesh root; the bearer token is sent when a file
// is given. It opens StreamConfig, subscribes as NODE_ID and prints one JSON
// line: the gRPC status the stream ended with (or "config" when a config
// arrived) and how many resources it was sent. Exits within 15 s.
import { readFileSync } from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import { loadDiscoveryProto } from '../../../proto/load.js';
import type { DiscoveryResponse__Output } from '../../../proto/gen/meshlet/v1/DiscoveryResponse.js';

const [target = '', rootFile = '', tokenFile = '-', nodeId = ''] = process.argv.slice(2);
const Client = loadDiscoveryProto().meshlet.v1.MeshDiscovery;
const client = new Client(target, credentials.createSsl(readFileSync(rootFile)));
const md = new Metadata();
if (tokenFile !== '-') md.set('authorization', `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`);
const call = client.StreamConfig(md);
let resources = 0;
let printed = false;
const finish = (outcome: Record<string, unknown>): void => {
  if (printed) return;
  printed = true;
  console.log(JSON.stringify({ ...outcome, resources }));
  call.cancel();
  client.close();
  setTimeout(() => process.exit(0), 100).unref();
};
call.on('data', (res: DiscoveryResponse__Output) => {
  resources += res.resources.length;
  finish({ outcome: 'config', version: res.version });
});
call.on('error', () => undefined);
call.on('status', (s: { code: number; details: string }) => finish({ outcome: 'status', code: s.code, details: s.details }));
call.write({ subscribe: { node: { id: nodeId, workload: nodeId, namespace: 'default', labels: { app: nodeId } }, currentVersion: '' } });
setTimeout(() => finish({ outcome: 'timeout' }), 15_000).unref();
