// Control-plane fan-out benchmark (a script, not a test): N simulated sidecar
// streams multiplexed over a few gRPC channels in this process, one route
// change, time until every stream has ACKed; then the same with a large
// endpoint set. Simulated sidecars ACK without decoding, so the figures are
// the control plane's push cost plus protobuf transfer, not sidecar compile time.
// Run: npx tsx test/bench/control-plane-scale.ts [sidecars] [endpoints]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { startControlPlane } from '../../control-plane/index.js';
import { loadDiscoveryProto } from '../../proto/load.js';
import type { DiscoveryRequest } from '../../proto/gen/meshlet/v1/DiscoveryRequest.js';
import type { DiscoveryResponse__Output } from '../../proto/gen/meshlet/v1/DiscoveryResponse.js';

export interface ScaleBenchOptions {
  readonly sidecars: number;
  readonly endpoints: number;
  readonly channels?: number;
}

export interface ScaleBenchResult {
  readonly sidecars: number;
  readonly endpoints: number;
  readonly channels: number;
  readonly snapshotBytes: number;
  readonly initialSyncMs: number;
  readonly routeChangeAllAckedMs: number;
  readonly heapUsedMB: { readonly before: number; readonly connected: number; readonly afterPush: number };
  readonly rssMB: { readonly before: number; readonly connected: number; readonly afterPush: number };
}

const MB = (n: number): number => Math.round((n / 1048576) * 10) / 10;

function yaml(endpoints: number, timeout: string): { services: string; routes: string } {
  const eps: string[] = [];
  for (let i = 0; i < Math.max(1, endpoints); i++) eps.push(`    - { address: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}, ports: { http: 8080 }, labels: { version: v${i % 3} } }`);
  const services = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: big }
spec:
  hosts: [big]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints:
${eps.join('\n')}
`;
  const routes = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: big }
spec:
  hosts: [big]
  http:
    - name: all
      timeout: ${timeout}
      route: [{ destination: { host: big } }]
`;
  return { services, routes };
}

export async function runControlPlaneScaleBench(opts: ScaleBenchOptions): Promise<ScaleBenchResult> {
  const channels = opts.channels ?? 10;
  const dir = await mkdtemp(join(tmpdir(), 'meshlet-cp-bench-'));
  const first = yaml(opts.endpoints, '1s');
  await writeFile(join(dir, '10-services.yaml'), first.services);
  await writeFile(join(dir, '30-routes.yaml'), first.routes);
  global.gc?.();
  const before = process.memoryUsage();
  const cp = await startControlPlane({ configDir: dir, grpcHost: '127.0.0.1', grpcPort: 0, metricsPort: -1, rescanMs: 0, security: { insecure: true }, log: () => {} });
  const Client = loadDiscoveryProto().meshlet.v1.MeshDiscovery;
  // A local subchannel pool per client gives each its own HTTP/2 connection.
  const clients = Array.from({ length: channels }, () => new Client(`127.0.0.1:${cp.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': -1 }));
  const versions = new Array<string>(opts.sidecars).fill('');
  let snapshotBytes = 0;
  let waiting: { version: string; left: number; done: () => void } | undefined;
  const calls: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse__Output>[] = [];
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let synced = 0;
    for (let i = 0; i < opts.sidecars; i++) {
      const call = clients[i % channels]!.StreamConfig();
      calls.push(call);
      call.on('error', () => {});
      call.on('data', (res: DiscoveryResponse__Output) => {
        if (snapshotBytes === 0) snapshotBytes = res.resources.reduce((n, r) => n + r.body.length, 0);
        const firstTime = versions[i] === '';
        versions[i] = res.version;
        call.write({ ack: { version: res.version, nonce: res.nonce } });
        if (firstTime && ++synced === opts.sidecars) resolve();
        if (waiting && res.version === waiting.version && --waiting.left === 0) waiting.done();
      });
      call.write({ subscribe: { node: { id: `sidecar-${i}`, workload: 'bench', namespace: 'default', labels: {} }, currentVersion: '' } });
    }
  });
  const initialSyncMs = performance.now() - t0;
  global.gc?.();
  const connected = process.memoryUsage();

  // One route change; the clock starts at the file write, so it includes watch + debounce (~200 ms).
  const t1 = performance.now();
  const allAcked = new Promise<void>((resolve) => {
    // The store flips to the new config ~100 ms before the debounced push goes out.
    const check = setInterval(() => {
      const v = cp.server.status()[0]?.versionCurrent;
      if (!v || v === versions[0] || waiting) return;
      clearInterval(check);
      waiting = { version: v, left: versions.filter((x) => x !== v).length, done: resolve };
    }, 5);
  });
  await writeFile(join(dir, '30-routes.yaml'), yaml(opts.endpoints, '2s').routes);
  await allAcked;
  const routeChangeAllAckedMs = performance.now() - t1;
  const afterPush = process.memoryUsage();

  for (const c of calls) c.cancel();
  for (const c of clients) c.close();
  await cp.close();
  await rm(dir, { recursive: true, force: true });
  return {
    sidecars: opts.sidecars,
    endpoints: opts.endpoints,
    channels,
    snapshotBytes,
    initialSyncMs: Math.round(initialSyncMs),
    routeChangeAllAckedMs: Math.round(routeChangeAllAckedMs),
    heapUsedMB: { before: MB(before.heapUsed), connected: MB(connected.heapUsed), afterPush: MB(afterPush.heapUsed) },
    rssMB: { before: MB(before.rss), connected: MB(connected.rss), afterPush: MB(afterPush.rss) },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sidecars = Number(process.argv[2] ?? 1000);
  const results: ScaleBenchResult[] = [];
  for (const endpoints of process.argv[3] ? [Number(process.argv[3])] : [10, 10_000]) results.push(await runControlPlaneScaleBench({ sidecars, endpoints }));
  console.table(results.map((r) => ({ sidecars: r.sidecars, endpoints: r.endpoints, 'snapshot KB': Math.round(r.snapshotBytes / 1024), 'initial sync ms': r.initialSyncMs, 'change→all ACKed ms': r.routeChangeAllAckedMs, 'heap MB (conn/push)': `${r.heapUsedMB.connected}/${r.heapUsedMB.afterPush}`, 'RSS MB (conn/push)': `${r.rssMB.connected}/${r.rssMB.afterPush}` })));
  console.log(JSON.stringify(results, null, 2));
}
