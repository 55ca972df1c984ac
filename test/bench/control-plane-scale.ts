// Control-plane fan-out benchmark (a script, not a test): N simulated sidecar
// streams (test/bench/simulated-sidecars.ts: they ACK without decoding), then
// one route change and one endpoint change, each timed from the file write
// (so it includes the file watch and the 100 ms push debounce) until every
// stream has ACKed. Run once with sidecars that take endpoint-only updates
// and once with sidecars that want whole snapshots (the behaviour before
// incremental pushes), so the comparison is made in one process, one run.
// Run: npx tsx test/bench/control-plane-scale.ts [sidecars] [endpoints] [churn seconds] [churn sidecars]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import { SimulatedSidecars } from './simulated-sidecars.js';
import { runEndpointChurn, type ChurnResult } from './control-plane-churn.js';
import type { TargetCheck } from './issue17-targets.js';

export interface ScaleBenchOptions {
  readonly sidecars: number;
  readonly endpoints: number;
  readonly channels?: number;
  /** Sidecars ask for endpoint-only updates (default true). */
  readonly endpointDeltas?: boolean;
}

export interface ScaleBenchResult {
  readonly sidecars: number;
  readonly endpoints: number;
  readonly channels: number;
  readonly endpointDeltas: boolean;
  readonly snapshotBytes: number;
  readonly initialSyncMs: number;
  readonly routeChangeAllAckedMs: number;
  readonly endpointChangeAllAckedMs: number;
  /** The same two, from the moment the store held the new config (without file watch, YAML parse and translation). */
  readonly routeChangePushMs: number;
  readonly endpointChangePushMs: number;
  /** Payload bytes each sidecar received for the one endpoint change. */
  readonly endpointChangeBytesPerSidecar: number;
  readonly heapUsedMB: { readonly before: number; readonly connected: number; readonly afterPush: number };
  readonly rssMB: { readonly before: number; readonly connected: number; readonly afterPush: number };
}

const MB = (n: number): number => Math.round((n / 1048576) * 10) / 10;

export const benchAddress = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

export function servicesYaml(endpoints: number, moved = -1): string {
  const eps: string[] = [];
  for (let i = 0; i < Math.max(1, endpoints); i++) eps.push(`    - { address: ${benchAddress(i === moved ? 0xfe0000 + i : i)}, ports: { http: 8080 }, labels: { version: v${i % 3} } }`);
  return `apiVersion: networking.istio.io/v1
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
}

export function routesYaml(timeout: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: big }
spec:
  hosts: [big]
  http:
    - name: all
      timeout: ${timeout}
      route: [{ destination: { host: big } }]
`;
}

/** Resolves with the version the control plane serves once it differs from `from`. */
async function nextVersion(cp: RunningControlPlane, from: string): Promise<string> {
  for (;;) {
    const v = cp.server.status()[0]?.versionCurrent;
    if (v && v !== from) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runControlPlaneScaleBench(opts: ScaleBenchOptions): Promise<ScaleBenchResult> {
  const channels = opts.channels ?? 10;
  const endpointDeltas = opts.endpointDeltas ?? true;
  const dir = await mkdtemp(join(tmpdir(), 'meshlet-cp-bench-'));
  await writeFile(join(dir, '10-services.yaml'), servicesYaml(opts.endpoints));
  await writeFile(join(dir, '30-routes.yaml'), routesYaml('1s'));
  global.gc?.();
  const before = process.memoryUsage();
  const cp = await startControlPlane({ configDir: dir, grpcHost: '127.0.0.1', grpcPort: 0, metricsPort: -1, rescanMs: 0, security: { insecure: true }, log: () => {} });
  const t0 = performance.now();
  const sidecars = await SimulatedSidecars.connect({ target: `127.0.0.1:${cp.port}`, sidecars: opts.sidecars, channels, endpointDeltas });
  const initialSyncMs = performance.now() - t0;
  const step = (what: string): void => void (process.env['MESHLET_BENCH_VERBOSE'] && process.stderr.write(`  ${endpointDeltas ? 'deltas' : 'whole'}: ${what} ${Math.round(performance.now() - t0)} ms\n`));
  step('initial sync done');
  const snapshotBytes = Math.round(sidecars.bytes / opts.sidecars);
  global.gc?.();
  const connected = process.memoryUsage();

  // One route change (always a whole snapshot).
  let t = performance.now();
  await writeFile(join(dir, '30-routes.yaml'), routesYaml('2s'));
  let v = await nextVersion(cp, sidecars.versions[0]!);
  let stored = performance.now();
  await sidecars.allAt(v);
  const routeChangeAllAckedMs = performance.now() - t;
  const routeChangePushMs = performance.now() - stored;
  step('route change done');
  const afterPush = process.memoryUsage();

  // One endpoint moves to a new address.
  const bytesBefore = sidecars.bytes;
  t = performance.now();
  await writeFile(join(dir, '10-services.yaml'), servicesYaml(opts.endpoints, Math.floor(opts.endpoints / 2)));
  v = await nextVersion(cp, sidecars.versions[0]!);
  stored = performance.now();
  await sidecars.allAt(v);
  const endpointChangeAllAckedMs = performance.now() - t;
  const endpointChangePushMs = performance.now() - stored;
  const endpointChangeBytesPerSidecar = Math.round((sidecars.bytes - bytesBefore) / opts.sidecars);

  sidecars.close();
  await cp.close();
  await rm(dir, { recursive: true, force: true });
  return {
    sidecars: opts.sidecars,
    endpoints: opts.endpoints,
    channels,
    endpointDeltas,
    snapshotBytes,
    initialSyncMs: Math.round(initialSyncMs),
    routeChangeAllAckedMs: Math.round(routeChangeAllAckedMs),
    endpointChangeAllAckedMs: Math.round(endpointChangeAllAckedMs),
    routeChangePushMs: Math.round(routeChangePushMs),
    endpointChangePushMs: Math.round(endpointChangePushMs),
    endpointChangeBytesPerSidecar,
    heapUsedMB: { before: MB(before.heapUsed), connected: MB(connected.heapUsed), afterPush: MB(afterPush.heapUsed) },
    rssMB: { before: MB(before.rss), connected: MB(connected.rss), afterPush: MB(afterPush.rss) },
  };
}

export interface ScaleSuiteResult {
  readonly single: readonly ScaleBenchResult[];
  readonly churn: readonly ChurnResult[];
  /** Issue 17's control-plane target: every sidecar converged ≤ 1 s after one endpoint change (from the file write). */
  readonly target: { readonly endpointChangeAllAckedMs: number; readonly met: boolean };
}

/**
 * Whole snapshots vs endpoint-only updates, one change and then a churn, in
 * one run. The churn runs with fewer sidecars by default: with whole
 * snapshots every push is sidecars × snapshot bytes (1,000 × 726 KB), which
 * takes minutes per second of churn on a shared machine.
 */
export async function runControlPlaneScaleSuite(sidecars = 1000, endpoints = 10_000, churnSeconds = 3, churnSidecars = 100): Promise<ScaleSuiteResult> {
  const single: ScaleBenchResult[] = [];
  const churn: ChurnResult[] = [];
  const progress = (what: string, r: unknown): void => void process.stderr.write(`control-plane scale: ${what} ${JSON.stringify(r)}\n`);
  for (const endpointDeltas of [true, false]) {
    const r = await runControlPlaneScaleBench({ sidecars, endpoints, endpointDeltas });
    progress('single', r);
    single.unshift(r);
  }
  for (const endpointDeltas of [true, false]) {
    const r = await runEndpointChurn({ sidecars: churnSidecars, endpoints, endpointDeltas, ratePerSecond: 100, seconds: churnSeconds });
    progress('churn', r);
    churn.unshift(r);
  }
  const ms = single[1]!.endpointChangeAllAckedMs;
  return { single, churn, target: { endpointChangeAllAckedMs: ms, met: ms <= 1000 } };
}

/**
 * The control-plane target as two rows: from the moment the store
 * holds the change (what a Kubernetes informer event reaches at once), and
 * from the file write (adds the file source's re-read, YAML parse and
 * translation of the 10,000-endpoint file).
 */
export function controlPlaneChecks(r: unknown): TargetCheck[] {
  if (typeof r !== 'object' || r === null || !('single' in r)) return [];
  const delta = (r as ScaleSuiteResult).single[1];
  if (delta === undefined) return [];
  const row = (what: string, ms: number): TargetCheck => ({ area: 'control plane', what, measured: ms, bound: '≤ 1,000 (before: 3,000)', pass: ms <= 1000 });
  const size = `${delta.sidecars.toLocaleString('en')} sidecars × ${delta.endpoints.toLocaleString('en')} endpoints`;
  return [
    row(`${size}: one endpoint change, store → all ACKed (ms)`, delta.endpointChangePushMs),
    row(`${size}: one endpoint change, file write → all ACKed (ms)`, delta.endpointChangeAllAckedMs),
  ];
}

const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(a / b < 0.1 ? 4 : 2)}×` : 'n/a');

export function renderScaleSuite(r: ScaleSuiteResult): string {
  const [whole, delta] = r.single;
  const [cw, cd] = r.churn;
  const lines = [
    `one endpoint change, ${whole!.sidecars} sidecars × ${whole!.endpoints} endpoints (whole snapshot → endpoint-only update):`,
    `  bytes per sidecar     ${whole!.endpointChangeBytesPerSidecar} → ${delta!.endpointChangeBytesPerSidecar} (${ratio(delta!.endpointChangeBytesPerSidecar, whole!.endpointChangeBytesPerSidecar)})`,
    `  change → all ACKed    ${whole!.endpointChangeAllAckedMs} ms → ${delta!.endpointChangeAllAckedMs} ms (${ratio(delta!.endpointChangeAllAckedMs, whole!.endpointChangeAllAckedMs)}; includes file watch, YAML parse, translation)`,
    `  store → all ACKed     ${whole!.endpointChangePushMs} ms → ${delta!.endpointChangePushMs} ms (${ratio(delta!.endpointChangePushMs, whole!.endpointChangePushMs)})`,
    `  route change (whole)  ${whole!.routeChangeAllAckedMs} ms / ${delta!.routeChangeAllAckedMs} ms`,
    `churn of ${cw!.ratePerSecond} endpoint changes/s for ${cw!.seconds} s, ${cw!.sidecars} sidecars × ${cw!.endpoints} endpoints (debounce ${cw!.debounceMs} ms, max ${cw!.debounceMaxMs} ms):`,
    `  bytes per change per sidecar   ${cw!.bytesPerChangePerSidecar} → ${cd!.bytesPerChangePerSidecar} (${ratio(cd!.bytesPerChangePerSidecar, cw!.bytesPerChangePerSidecar)})`,
    `  changes (store updates)        ${cw!.changesApplied} (${cw!.storeUpdates}) / ${cd!.changesApplied} (${cd!.storeUpdates})`,
    `  last change → all ACKed        ${cw!.convergeAfterLastMs} ms → ${cd!.convergeAfterLastMs} ms (${ratio(cd!.convergeAfterLastMs, cw!.convergeAfterLastMs)})`,
    `  responses per sidecar          ${cw!.responsesPerSidecar} → ${cd!.responsesPerSidecar}`,
    `issue 17 target (1,000 sidecars converge ≤ 1 s after a change with 10,000 endpoints): ${r.target.endpointChangeAllAckedMs} ms ${r.target.met ? '✔' : '✘'}`,
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runControlPlaneScaleSuite(Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 10_000), Number(process.argv[4] ?? 3), Number(process.argv[5] ?? 100));
  console.log(renderScaleSuite(r));
  console.log(JSON.stringify(r, null, 2));
}
