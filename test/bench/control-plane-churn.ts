// Endpoint churn against the control plane: `ratePerSecond` endpoint changes
// per second for `seconds`, each moving one endpoint to a new address, handed
// straight to the store (as a source would after translation; changes that
// fall due while the process is busy are folded into one update), with a push
// debounce short enough that pushes keep up (10 ms quiet, at most 100 ms:
// with istiod's 100 ms / 10 s a steady churn is pushed only every 10 s).
// Measures payload bytes per change per sidecar, whether the control plane
// kept up, and the time from the last change until every sidecar ACKed it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../../control-plane/index.js';
import type { EndpointModel } from '../../proxy/config/model/index.js';
import { SimulatedSidecars } from './simulated-sidecars.js';
import { benchAddress, routesYaml, servicesYaml } from './control-plane-scale.js';

export interface ChurnOptions {
  readonly sidecars: number;
  readonly endpoints: number;
  readonly endpointDeltas: boolean;
  readonly ratePerSecond: number;
  readonly seconds: number;
  readonly channels?: number;
}

export interface ChurnResult {
  readonly sidecars: number;
  readonly endpoints: number;
  readonly endpointDeltas: boolean;
  readonly ratePerSecond: number;
  readonly seconds: number;
  readonly debounceMs: number;
  readonly debounceMaxMs: number;
  /** Endpoint changes made within the window. */
  readonly changesApplied: number;
  /** Store updates they were folded into (when the process falls behind, several changes share one). */
  readonly storeUpdates: number;
  readonly bytesPerChangePerSidecar: number;
  readonly responsesPerSidecar: number;
  readonly convergeAfterLastMs: number;
}

export async function runEndpointChurn(o: ChurnOptions): Promise<ChurnResult> {
  const debounceMs = 10;
  const debounceMaxMs = 100;
  const dir = await mkdtemp(join(tmpdir(), 'meshlet-cp-churn-'));
  await writeFile(join(dir, '10-services.yaml'), servicesYaml(o.endpoints));
  await writeFile(join(dir, '30-routes.yaml'), routesYaml('1s'));
  const cp = await startControlPlane({ configDir: dir, grpcHost: '127.0.0.1', grpcPort: 0, metricsPort: -1, rescanMs: 0, debounceMs, debounceMaxMs, security: { insecure: true }, log: () => {} });
  const sidecars = await SimulatedSidecars.connect({ target: `127.0.0.1:${cp.port}`, sidecars: o.sidecars, channels: o.channels ?? 10, endpointDeltas: o.endpointDeltas });
  const bytes0 = sidecars.bytes;
  const responses0 = sidecars.responses;
  const start = performance.now();
  const end = start + o.seconds * 1000;
  const every = 1000 / o.ratePerSecond;
  let applied = 0;
  let updates = 0;
  while (performance.now() < end) {
    const wait = start + (applied + 1) * every - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else await new Promise((r) => setImmediate(r));
    // Every change due by now goes into one store update, as a source's debounce would fold them.
    const due = Math.min(Math.floor((Math.min(performance.now(), end) - start) / every), o.ratePerSecond * o.seconds);
    if (due <= applied) continue;
    const config = cp.store.current()!;
    const [big, ...rest] = config.clusters;
    const endpoints: EndpointModel[] = big!.endpoints.slice();
    for (; applied < due; applied++) {
      const slot = applied % endpoints.length;
      endpoints[slot] = { ...endpoints[slot]!, address: benchAddress(0x800000 + applied) };
    }
    cp.store.setConfig({ ...config, clusters: [{ ...big!, endpoints }, ...rest] });
    updates++;
  }
  const lastAt = performance.now();
  // Wait for the debounced push of the last change, then for every ACK.
  await new Promise((r) => setTimeout(r, debounceMs + 5));
  let version = '';
  for (;;) {
    version = cp.server.status()[0]?.versionCurrent ?? '';
    if (version !== '') break;
    await new Promise((r) => setTimeout(r, 5));
  }
  await sidecars.allAt(version);
  const convergeAfterLastMs = Math.round(performance.now() - lastAt);
  const result: ChurnResult = {
    sidecars: o.sidecars,
    endpoints: o.endpoints,
    endpointDeltas: o.endpointDeltas,
    ratePerSecond: o.ratePerSecond,
    seconds: o.seconds,
    debounceMs,
    debounceMaxMs,
    changesApplied: applied,
    storeUpdates: updates,
    bytesPerChangePerSidecar: Math.round((sidecars.bytes - bytes0) / Math.max(1, applied) / o.sidecars),
    responsesPerSidecar: Math.round(((sidecars.responses - responses0) / o.sidecars) * 10) / 10,
    convergeAfterLastMs,
  };
  sidecars.close();
  await cp.close();
  await rm(dir, { recursive: true, force: true });
  return result;
}
