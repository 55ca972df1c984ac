// The demo's lifecycle: bring the mesh up, drive traffic, play the scenario,
// redraw the view every second, and on Ctrl-C / SIGTERM / --duration stop
// every child, close the control plane and remove the temp dir.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchStatus, syncState, type RunningControlPlane } from '../../control-plane/index.js';
import { bringUp, isStopped, pkiDirFor, type Mesh } from './bring-up.js';
import { repoRoot, startApp } from './mesh.js';
import { demoSteps } from './scenario.js';
import { MeshScraper, type MeshStats } from './stats.js';
import { Supervisor } from './supervisor.js';
import { TrafficDriver } from './traffic.js';
import { endpointsHelp, pct, progressLine, renderScreen, statusLine, ttyFrame, type Frame, type SidecarSync } from './view.js';

export interface DemoOptions {
  /** Stop after this many seconds of traffic; undefined = until Ctrl-C. */
  readonly durationS: number | undefined;
  readonly stepS: number;
  readonly rps: number;
  readonly tty: boolean;
  readonly out: NodeJS.WriteStream;
}

const ALT_ON = '\x1b[?1049h\x1b[?25l';
const ALT_OFF = '\x1b[?25h\x1b[?1049l';

export async function runDemo(o: DemoOptions): Promise<number> {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist/examples/bookinfo/service.js'))) {
    process.stderr.write('meshlet demo: dist/ is missing; run `npm run build` (npm install does it) first\n');
    return 1;
  }
  const write = (s: string): void => void o.out.write(s);
  const configDir = mkdtempSync(join(tmpdir(), 'meshlet-demo-'));
  const sup = new Supervisor();
  const events: string[] = [];
  const t0 = Date.now();
  let trafficStart = 0;
  const elapsed = (): number => (trafficStart > 0 ? (Date.now() - trafficStart) / 1000 : 0);
  const event = (msg: string): void => {
    const line = `[t=${Math.floor(elapsed())}s] ${msg}`;
    events.push(line);
    if (!o.tty) write(`${line}\n`);
  };
  sup.onUnexpectedExit = (name, code, output) => event(`${name} exited unexpectedly (${code}): ${output.trim().split('\n').at(-1) ?? ''}`);

  let stopReason = '';
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (wake = r));
  const requestStop = (why: string): void => {
    if (stopReason !== '') return;
    stopReason = why;
    wake();
  };
  const onSigint = (): void => requestStop('SIGINT');
  const onSigterm = (): void => requestStop('SIGTERM');
  // A closed terminal sends SIGHUP: stop everything as for Ctrl-C, or 15 processes and the temp dir are left behind.
  const onSighup = (): void => requestStop('SIGHUP');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('SIGHUP', onSighup);
  // Last resort if we die of an exception: no orphaned children.
  const onExit = (): void => sup.killAllNow();
  process.on('exit', onExit);

  let cp: RunningControlPlane | undefined;
  let driver: TrafficDriver | undefined;
  const timers: NodeJS.Timeout[] = [];
  let code = 0;
  let last: MeshStats | undefined;
  if (o.tty) write(ALT_ON);
  try {
    write(o.tty ? '' : `meshlet demo: config dir ${configDir}\n`);
    let mesh: Mesh;
    try {
      mesh = await bringUp({
        sup,
        root,
        configDir,
        progress: (done, total, what) => write(o.tty ? `\r${progressLine(done, total, what)}\x1b[K` : `${progressLine(done, total, what)}\n`),
        cpLog: (line) => event(line),
        stopped: () => stopReason !== '',
        onControlPlane: (c) => (cp = c),
      });
    } catch (err) {
      if (isStopped(err) || stopReason !== '') return 0;
      throw err;
    }
    const help = endpointsHelp(mesh.instances, `${mesh.cpTarget} --ca-cert ${mesh.caCertFile}`, mesh.cp.metricsPort);
    if (!o.tty) write(`${help.join('\n')}\n`);

    const loadgen = mesh.instances.find((i) => i.role === 'loadgen');
    const v3b = mesh.instances.find((i) => i.name === 'reviews-v3-b');
    driver = new TrafficDriver(loadgen?.sidecar?.outbound ?? 0, o.rps);
    driver.start();
    trafficStart = Date.now();
    event(`mesh up in ${((trafficStart - t0) / 1000).toFixed(1)} s; ${o.rps} users/s to productpage (1 in 5 as end-user: jason)`);

    const steps = demoSteps({ root, configDir, restartV3b: (rate) => (v3b ? startApp(sup, root, v3b, rate) : Promise.resolve()) }, o.stepS);
    let nextStep = 0;
    for (const s of steps) {
      timers.push(
        setTimeout(() => {
          nextStep++;
          event(s.title);
          s.run().catch((err: unknown) => event(`step failed: ${(err as Error).message}`));
        }, s.atS * 1000),
      );
    }
    if (o.durationS !== undefined) timers.push(setTimeout(() => requestStop(`--duration ${o.durationS}`), o.durationS * 1000));

    const scraper = new MeshScraper();
    let drawing = false;
    const draw = async (): Promise<void> => {
      if (drawing || stopReason !== '') return;
      drawing = true;
      try {
        const [mstats, st] = await Promise.all([scraper.scrape(mesh.instances), fetchStatus(mesh.cpTarget, { ...mesh.adminCall, timeoutMs: 900 }).catch(() => undefined)]);
        last = mstats;
        const sidecars: SidecarSync[] = mesh.instances.map((i) => {
          const n = st?.nodes.find((x) => x.nodeId === i.name);
          return { name: i.name, version: n?.versionAcked || mstats.configVersions.get(i.name) || '-', sync: n ? syncState(n) : 'DISCONNECTED' };
        });
        // The first scrape only sets the baseline: no window to compute rates over yet.
        if (stopReason !== '' || driver === undefined || mstats.windowS === 0) return;
        const f: Frame = { elapsedS: elapsed(), client: driver.window(), mesh: mstats, sidecars, generation: st?.generation ?? 0, events, nextStep: steps[nextStep] && `t=${steps[nextStep]!.atS}s ${steps[nextStep]!.title}` };
        write(o.tty ? ttyFrame(renderScreen(f, help)) : `${statusLine(f)}\n`);
      } finally {
        drawing = false;
      }
    };
    const tick = setInterval(() => void draw(), 1000);
    timers.push(tick);
    await stopped;
  } catch (err) {
    code = 1;
    // On a TTY the alternate screen hides events; the summary repeats the last ones.
    event(`demo failed: ${(err as Error).message}`);
  } finally {
    for (const t of timers) clearTimeout(t);
    await driver?.stop();
    await sup.stopAll();
    await cp?.close();
    rmSync(configDir, { recursive: true, force: true });
    rmSync(pkiDirFor(configDir), { recursive: true, force: true });
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('SIGHUP', onSighup);
    process.off('exit', onExit);
    if (o.tty) write(ALT_OFF);
  }
  write(summary(stopReason || 'error', elapsed(), driver, last, configDir, code !== 0 && o.tty ? events.slice(-5) : []));
  return code;
}

function summary(why: string, secs: number, d: TrafficDriver | undefined, m: MeshStats | undefined, dir: string, errors: readonly string[]): string {
  const lines = [...errors, `meshlet demo stopped (${why}) after ${secs.toFixed(0)} s of traffic; every child process stopped, ${dir} removed`];
  if (d) lines.push(`  users: ${d.sent} page loads, ${d.failed} broken (${pct(d.sent > 0 ? (d.sent - d.failed) / d.sent : NaN).trim()} ok)`);
  if (m) {
    lines.push(`  reviews requests by version: ${[...m.reviewsTotals].map(([v, n]) => `${v} ${n}`).join(', ')}`);
    lines.push(`  retries: ${[...m.retries].map(([k, v]) => `${k} ${v}`).join(', ') || '0'}; outlier ejections: ${[...m.ejections].map(([k, v]) => `${k} ${v}`).join(', ') || '0'}`);
  }
  return lines.join('\n') + '\n';
}
