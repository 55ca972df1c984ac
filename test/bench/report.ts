// Turns per-round cells into medians, spreads and ratios, and renders them as
// a console table and as markdown for the README.
import { median, spread } from './latency-summary.js';
import type { Cell } from './run-matrix.js';

export interface Row {
  readonly target: string;
  readonly label: string;
  readonly load: string;
  readonly size: string;
  readonly rounds: number;
  readonly reqPerSec: number;
  readonly spread: number;
  readonly xDirect: number;
  readonly xHttpProxy: number;
  readonly xUndici: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly addedP50Us: number;
  readonly addedP99Us: number;
  readonly cpuUsPerReq: number;
  readonly peakRssMiB: number;
  readonly maxForeignCpu: number;
  readonly errors: number;
}

export function aggregate(cells: readonly Cell[], labels: ReadonlyMap<string, string>, rss: ReadonlyMap<string, number[]>): Row[] {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    const k = `${c.target}|${c.load}|${c.size}`;
    const g = groups.get(k);
    if (g) g.push(c); else groups.set(k, [c]);
  }
  const med = (target: string, load: string, size: string, pick: (c: Cell) => number): number =>
    median((groups.get(`${target}|${load}|${size}`) ?? []).map(pick));
  const rows: Row[] = [];
  for (const [k, g] of groups) {
    const [target = '', load = '', size = ''] = k.split('|');
    const rps = median(g.map((c) => c.reqPerSec));
    const p50 = median(g.map((c) => c.p50Us));
    const p99 = median(g.map((c) => c.p99Us));
    rows.push({
      target, label: labels.get(target) ?? target, load, size, rounds: g.length,
      reqPerSec: rps, spread: spread(g.map((c) => c.reqPerSec)),
      xDirect: rps / med('direct', load, size, (c) => c.reqPerSec),
      xHttpProxy: rps / med('http-proxy', load, size, (c) => c.reqPerSec),
      xUndici: rps / med('undici-dispatch', load, size, (c) => c.reqPerSec),
      p50Us: p50, p99Us: p99, p999Us: median(g.map((c) => c.p999Us)),
      addedP50Us: p50 - med('direct', load, size, (c) => c.p50Us),
      addedP99Us: p99 - med('direct', load, size, (c) => c.p99Us),
      cpuUsPerReq: median(g.map((c) => c.cpuUsPerReq)),
      peakRssMiB: median(rss.get(target) ?? []),
      maxForeignCpu: Math.max(...g.map((c) => c.foreignCpu)),
      errors: g.reduce((a, c) => a + c.errors, 0),
    });
  }
  const loadOrder = (l: string): number => (l === 'max' ? 0 : Number.parseInt(l, 10));
  return rows.sort((a, b) => a.size.localeCompare(b.size) || loadOrder(a.load) - loadOrder(b.load));
}

const n = (x: number, d = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–');

const HEAD = ['target', 'load', 'size', 'req/s', 'spread', '×direct', '×http-proxy', '×undici', 'p50 µs', 'p99 µs', 'p99.9 µs', '+p50 µs', '+p99 µs', 'CPU µs/req', 'peak RSS MiB', 'errors', 'foreign CPU'];

function cellsOf(r: Row): string[] {
  return [r.target, r.load, r.size, n(r.reqPerSec), pct(r.spread), n(r.xDirect, 2), n(r.xHttpProxy, 2), n(r.xUndici, 2),
    n(r.p50Us), n(r.p99Us), n(r.p999Us), n(r.addedP50Us), n(r.addedP99Us), n(r.cpuUsPerReq, 1), n(r.peakRssMiB, 1), String(r.errors), n(r.maxForeignCpu, 2)];
}

/** Fixed-width console table. */
export function renderText(rows: readonly Row[]): string {
  const all = [HEAD, ...rows.map(cellsOf)];
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/** Markdown table plus the legend of target labels. */
export function renderMarkdown(rows: readonly Row[], notes: readonly string[]): string {
  const lines = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i < 3 ? '---' : '--:')).join('|')}|`];
  for (const r of rows) lines.push(`| ${cellsOf(r).join(' | ')} |`);
  const labels = new Map(rows.map((r) => [r.target, r.label]));
  const legend = [...labels].map(([t, l]) => `- \`${t}\`: ${l}`);
  return [...notes.map((x) => `${x}  `), '', ...lines, '', ...legend, ''].join('\n');
}
