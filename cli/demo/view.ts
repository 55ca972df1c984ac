// The demo's terminal view. On a TTY: one screen redrawn in place once a
// second with ANSI escapes (no library). Otherwise (CI, pipes, `--no-tty`):
// plain lines, one status line a second plus the events as they happen, so a
// log stays readable and greppable.
import type { Instance } from './mesh.js';
import type { MeshStats, Row } from './stats.js';
import type { ClientWindow } from './traffic.js';

export interface SidecarSync {
  readonly name: string;
  readonly version: string;
  readonly sync: string;
}

export interface Frame {
  readonly elapsedS: number;
  readonly client: ClientWindow;
  readonly mesh: MeshStats;
  readonly sidecars: readonly SidecarSync[];
  readonly generation: number;
  readonly events: readonly string[];
  readonly nextStep: string | undefined;
}

const ESC = '\x1b[';
const bold = (s: string, on: boolean): string => (on ? `${ESC}1m${s}${ESC}0m` : s);
const dim = (s: string, on: boolean): string => (on ? `${ESC}2m${s}${ESC}0m` : s);

export const pct = (x: number): string => (Number.isNaN(x) ? '   -  ' : `${(x * 100).toFixed(1).padStart(5)}%`);
const ms = (x: number): string => (Number.isNaN(x) ? '     -' : x < 10 ? `${x.toFixed(1).padStart(4)}ms` : `${Math.round(x).toString().padStart(4)}ms`);
const rate = (x: number): string => x.toFixed(1).padStart(6);

function bar(share: number, width = 20): string {
  const n = Number.isNaN(share) ? 0 : Math.round(share * width);
  return '█'.repeat(n) + '░'.repeat(width - n);
}

const LEFT = 44;

function rowLine(r: Row, withBar: boolean): string {
  const head = withBar ? `  ${r.name.padEnd(12)} ${bar(r.share)} ${pct(r.share)}` : `  ${r.name}`;
  return `${head.padEnd(LEFT)} ${rate(r.rps)} ${pct(r.success).padStart(7)} ${ms(r.p50).padStart(7)} ${ms(r.p99).padStart(7)}`;
}

/** Column titles lined up with rowLine's columns. */
function header(title: string): string {
  return `${title.padEnd(LEFT)} ${'req/s'.padStart(6)} ${'success'.padStart(7)} ${'p50'.padStart(7)} ${'p99'.padStart(7)}`;
}

function counts(m: ReadonlyMap<string, number>): string {
  const parts = [...m].filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? parts.join(', ') : '0';
}

/** Lines telling the user where to look, printed once (and kept on the TTY screen). */
export function endpointsHelp(instances: readonly Instance[], cpTarget: string, cpMetricsPort: number | undefined): string[] {
  const lines = ['Poke at it (while the demo runs):'];
  const pp = instances.find((i) => i.name === 'productpage-v1')?.sidecar;
  const lg = instances.find((i) => i.name === 'loadgen')?.sidecar;
  if (lg) lines.push(`  curl -s -H 'end-user: jason' -x http://127.0.0.1:${lg.outbound} http://productpage:9080/productpage   # a page through the mesh`);
  if (pp) {
    lines.push(`  curl -s http://127.0.0.1:${pp.metrics}/stats/prometheus | grep istio_requests_total   # productpage sidecar metrics`);
    lines.push(`  curl -s http://127.0.0.1:${pp.admin}/clusters   # its endpoints, health, ejections (also /config_dump, /server_info)`);
  }
  lines.push(`  node bin/meshlet.js status --control-plane ${cpTarget}   # config version per sidecar`);
  if (lg && pp) lines.push(`  node bin/meshlet.js experiment compare examples/experiments/ratings-abort-no-retries.yaml examples/experiments/ratings-abort-retries.yaml --control-plane ${cpTarget} --via 127.0.0.1:${lg.outbound} --metrics 127.0.0.1:${pp.metrics} --report /tmp/meshlet-experiment   # try a fault experiment`);
  if (cpMetricsPort !== undefined) lines.push(`  curl -s http://127.0.0.1:${cpMetricsPort}/metrics   # control plane metrics`);
  const rows = instances.filter((i) => i.sidecar).map((i) => `    ${i.name.padEnd(15)} metrics :${i.sidecar!.metrics}  admin :${i.sidecar!.admin}  outbound :${i.sidecar!.outbound}  inbound :${i.sidecar!.inbound}`);
  return [...lines, '  sidecar ports:', ...rows];
}

/** The full screen for a TTY. */
export function renderScreen(f: Frame, help: readonly string[], color = true): string {
  const out: string[] = [];
  out.push(bold(`Meshlet demo — Bookinfo on loopback, ${f.sidecars.length} sidecars`, color) + `   t=${Math.floor(f.elapsedS)}s   ${dim('Ctrl-C to stop', color)}`);
  out.push('');
  out.push(`${bold('Users', color)}  ${rate(f.client.rps)} req/s   pages OK ${pct(f.client.ok)}   sent ${f.client.sent}   broken ${f.client.failed}`);
  out.push('');
  out.push(bold(header(`  Route (calling sidecars, last ${f.mesh.windowS.toFixed(0)} s)`), color));
  for (const r of f.mesh.routes) out.push(rowLine(r, false));
  out.push(bold(header(`${'  Reviews split'.padEnd(37)}share`), color));
  for (const r of f.mesh.reviewsVersions) out.push(rowLine(r, true));
  out.push('');
  const ejectedNow = [...f.mesh.ejectedNow].filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  out.push(`${bold('Retries', color)} ${counts(f.mesh.retries)}   ${bold('Ejections', color)} ${counts(f.mesh.ejections)} (ejected now: ${ejectedNow})`);
  out.push('');
  out.push(bold(`Sidecars — config from the control plane (generation ${f.generation})`, color));
  for (const s of f.sidecars) out.push(`  ${s.name.padEnd(15)} ${s.version.padEnd(24)} ${s.sync}`);
  out.push('');
  out.push(bold('Events', color));
  for (const e of f.events.slice(-6)) out.push(`  ${e}`);
  if (f.nextStep) out.push(dim(`  next: ${f.nextStep}`, color));
  out.push('');
  out.push(...help);
  return out.join('\n');
}

/** Redraw in place: cursor home, each line cleared to its end, rest of screen cleared. */
export function ttyFrame(screen: string): string {
  return `${ESC}H` + screen.split('\n').map((l) => `${l}${ESC}K`).join('\n') + `\n${ESC}J`;
}

/** One status line for plain output. */
export function statusLine(f: Frame): string {
  const split = f.mesh.reviewsVersions.map((r) => `${r.name.replace('reviews ', '')} ${pct(r.share).trim()}`).join(' ');
  const routes = f.mesh.routes.map((r) => `${r.name} ${r.rps.toFixed(1)}/s ${pct(r.success).trim()} p50 ${ms(r.p50).trim()} p99 ${ms(r.p99).trim()}`).join(' | ');
  const synced = f.sidecars.filter((s) => s.sync === 'SYNCED').length;
  const versions = [...new Set(f.sidecars.map((s) => s.version))].join(',');
  return (
    `[t=${Math.floor(f.elapsedS)}s] users ${f.client.rps.toFixed(1)} req/s ok ${pct(f.client.ok).trim()}` +
    ` | reviews split ${split} | retries ${counts(f.mesh.retries)} | ejections ${counts(f.mesh.ejections)}` +
    ` | config ${synced}/${f.sidecars.length} synced (${versions})\n  routes: ${routes}`
  );
}

/** Start-up progress: `[####----] 5/16 starting reviews-v3-a sidecar`. */
export function progressLine(done: number, total: number, what: string): string {
  const w = 24;
  const n = Math.round((done / Math.max(1, total)) * w);
  return `[${'#'.repeat(n)}${'-'.repeat(w - n)}] ${done}/${total} ${what}`;
}
