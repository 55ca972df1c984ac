// Soak: a Meshlet with its defaults under steady traffic for minutes, with
// clients aborting requests mid-flight, the service's endpoints churning and
// a config push every 10 s (the watched config file rewritten: the same
// compile-and-swap path a control-plane push takes), sampling RSS and the JS
// heap. A leak shows as a slope; the first quarter is warm-up and not fitted.
// The JS heap is a saw-tooth (old space grows until a mark-compact), so the
// fit is over the floor: the minimum of each 60 s window, what survives GC.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { nodeScript, spawnChild, type Child } from './child-process.js';
import { adminMemory, rssMiB } from './memory-probe.js';
import { MESH_HOST } from './meshlet-config.js';
import { meshletTarget, type BenchContext } from './targets.js';

export interface SoakOptions {
  readonly minutes: number;
  readonly rate: number;
  /** Share of requests the client destroys before the response ends. */
  readonly abortFraction: number;
  readonly pushEveryMs: number;
  readonly sampleEveryMs: number;
}

export interface SoakSample { readonly tSec: number; readonly rssMiB: number; readonly heapUsedMiB: number }

export interface SoakResult {
  readonly minutes: number;
  readonly samples: readonly SoakSample[];
  readonly rssSlopeMiBPerHour: number;
  readonly heapSlopeMiBPerHour: number;
  readonly completed: number;
  readonly aborted: number;
  readonly errors: number;
  readonly pushes: number;
}

export const SOAK_DEFAULTS: SoakOptions = { minutes: 10, rate: 500, abortFraction: 0.05, pushEveryMs: 10_000, sampleEveryMs: 5_000 };

/** Least-squares slope of y over x (NaN for fewer than two points). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    num += dx * ((ys[i] ?? 0) - my);
    den += dx * dx;
  }
  return den === 0 ? NaN : num / den;
}

/** The service's endpoints for push `n`: two of the three upstreams, rotating, and a timeout that changes. */
function churnYaml(ports: readonly number[], n: number): string {
  const eps = [ports[n % ports.length], ports[(n + 1) % ports.length]].map((p) => `{ address: 127.0.0.1, ports: { http: ${p} } }`);
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: upstream }
spec:
  hosts: [upstream]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [${eps.join(', ')}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: upstream }
spec:
  hosts: [upstream]
  http:
    - route: [{ destination: { host: upstream } }]
      timeout: ${5 + (n % 5)}s
`;
}

export async function runSoak(ctx: BenchContext, o: SoakOptions, log: (s: string) => void): Promise<SoakResult> {
  const ups: Child[] = [];
  const stats = { completed: 0, aborted: 0, errors: 0, pushes: 0 };
  const samples: SoakSample[] = [];
  try {
    for (let i = 0; i < 3; i++) ups.push(await spawnChild({ cmd: nodeScript('peers/upstream'), cpu: 0 }));
    const ports = ups.map((u) => u.port);
    const name = 'meshlet-soak';
    const t = await meshletTarget(name, 'meshlet defaults under soak', { allFeatures: false, accessLog: 'file', metrics: true, traceRate: 0 }).start(ctx);
    const cfgFile = path.join(ctx.tmpDir, `${name}.yaml`);
    writeFileSync(cfgFile, churnYaml(ports, 0));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const started = Date.now();
    const endAt = started + o.minutes * 60_000;
    let seq = 0;
    // Requests still in flight when the soak ends fail as the agent closes: not the proxy's errors.
    let stopping = false;
    const send = (): void => {
      const abort = Math.random() < o.abortFraction;
      const req = http.request({ agent, host: '127.0.0.1', port: t.port, path: seq++ % 2 === 0 ? '/small' : '/64k', headers: { host: MESH_HOST } }, (res) => {
        res.on('data', noop);
        res.on('end', () => { stats.completed++; });
        res.on('error', noop);
      });
      req.on('error', () => { if (!abort && !stopping) stats.errors++; });
      req.end();
      if (abort) setTimeout(() => { stats.aborted++; req.destroy(); }, Math.floor(Math.random() * 3));
    };
    const perTick = Math.max(1, Math.round(o.rate / 50));
    const load = setInterval(() => { for (let i = 0; i < perTick; i++) send(); }, 20);
    const push = setInterval(() => { stats.pushes++; writeFileSync(cfgFile, churnYaml(ports, stats.pushes)); }, o.pushEveryMs);
    try {
      while (Date.now() < endAt) {
        await new Promise((r) => setTimeout(r, Math.min(o.sampleEveryMs, Math.max(0, endAt - Date.now()))));
        const why = t.death();
        if (why !== null) throw new Error(`meshlet died during the soak: ${why}`);
        const mem = await adminMemory(t.adminPort);
        const s: SoakSample = { tSec: (Date.now() - started) / 1000, rssMiB: t.pid === null ? NaN : rssMiB(t.pid), heapUsedMiB: (mem?.['heap_used'] ?? NaN) / 1048576 };
        samples.push(s);
        log(`  soak t=${s.tSec.toFixed(0)}s rss ${s.rssMiB.toFixed(1)} MiB heap ${s.heapUsedMiB.toFixed(1)} MiB done ${stats.completed} aborted ${stats.aborted} errors ${stats.errors} pushes ${stats.pushes}`);
      }
    } finally {
      stopping = true;
      clearInterval(load);
      clearInterval(push);
      agent.destroy();
      await t.stop();
    }
    const fit = floors(samples.slice(Math.floor(samples.length / 4)), Math.max(1, Math.round(60_000 / o.sampleEveryMs)));
    const xs = fit.map((s) => s.tSec / 3600);
    return {
      minutes: o.minutes, samples,
      rssSlopeMiBPerHour: slope(xs, fit.map((s) => s.rssMiB)),
      heapSlopeMiBPerHour: slope(xs, fit.map((s) => s.heapUsedMiB)),
      ...stats,
    };
  } finally {
    for (const u of ups) await u.stop();
  }
}

/** Per window of `w` samples: its time midpoint and the minimum RSS and heap in it. */
export function floors(samples: readonly SoakSample[], w: number): SoakSample[] {
  const out: SoakSample[] = [];
  for (let i = 0; i + w <= samples.length; i += w) {
    const win = samples.slice(i, i + w);
    out.push({ tSec: win.reduce((a, s) => a + s.tSec, 0) / w, rssMiB: Math.min(...win.map((s) => s.rssMiB)), heapUsedMiB: Math.min(...win.map((s) => s.heapUsedMiB)) });
  }
  return out;
}

function noop(): void { /* discard */ }
