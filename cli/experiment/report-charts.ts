// The report's charts, drawn server-side by Observable Plot into a linkedom
// document and kept as inline SVG: the HTML needs no script and no network
// to be viewed. Every time chart shades the phases and marks when the fault
// went in and came out.
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import { ms } from './experiment-schema.js';
import type { PhaseName, Report } from './report-model.js';

const PHASE_FILL: Record<PhaseName, string> = { baseline: '#e8f1fb', inject: '#fde2e1', recover: '#e6f5e9' };
const WIDTH = 640;
const HEIGHT = 200;

function doc(): Plot.PlotOptions['document'] {
  return parseHTML('<!doctype html><html><body></body></html>').document as unknown as Plot.PlotOptions['document'];
}

function render(options: Plot.PlotOptions): string {
  const el = Plot.plot({ document: doc(), width: WIDTH, height: HEIGHT, marginLeft: 50, ...options });
  return (el as unknown as { outerHTML: string }).outerHTML;
}

function phaseMarks(r: Report): Plot.Markish[] {
  const rects = r.phases.map((p) => ({ x1: p.start, x2: Math.max(p.end, p.start + 0.01), phase: p.name, fill: PHASE_FILL[p.name] }));
  const marks: Plot.Markish[] = [Plot.rectX(rects, { x1: 'x1', x2: 'x2', fill: 'fill', title: 'phase' })];
  const faultEvents = r.events.filter((e) => e.kind === 'fault-applied' || e.kind === 'fault-reverted');
  if (faultEvents.length > 0) marks.push(Plot.ruleX(faultEvents, { x: 't', stroke: (e: { kind: string }) => (e.kind === 'fault-applied' ? '#c0392b' : '#27ae60'), strokeDasharray: '4,3' }));
  if (r.stoppedEarly) marks.push(Plot.ruleX([r.stoppedEarly.t], { stroke: 'black', strokeWidth: 2 }));
  return marks;
}

const x = { label: 'seconds since start', domain: undefined } as const;

/** Series points at the middle of their second. */
function series(r: Report, pick: (s: Report['samples'][number]) => number | null, name: string): { t: number; v: number; series: string }[] {
  const out: { t: number; v: number; series: string }[] = [];
  for (const s of r.samples) {
    const v = pick(s);
    if (v !== null) out.push({ t: s.t + 0.5, v, series: name });
  }
  return out;
}

export function rateChart(r: Report): string {
  return render({ x, y: { label: 'requests/s', grid: true }, marks: [...phaseMarks(r), Plot.lineY(series(r, (s) => s.requests, 'rps'), { x: 't', y: 'v', stroke: '#2c3e50', marker: 'dot' }), Plot.ruleY([0])] });
}

export function successChart(r: Report): string {
  const min = r.experiment.spec.hypothesis.successRate?.min;
  const marks: Plot.Markish[] = [...phaseMarks(r), Plot.lineY(series(r, (s) => (s.successRate === null ? null : s.successRate * 100), 'success'), { x: 't', y: 'v', stroke: '#2980b9', marker: 'dot' })];
  if (min !== undefined) marks.push(Plot.ruleY([min * 100], { stroke: '#c0392b', strokeDasharray: '6,3' }));
  return render({ x, y: { label: 'success %', grid: true, domain: [0, 100] }, marks });
}

export function latencyChart(r: Report): string {
  const max = r.experiment.spec.hypothesis.latencyP99?.max;
  const data = [...series(r, (s) => s.p50, 'p50'), ...series(r, (s) => s.p99, 'p99')];
  const marks: Plot.Markish[] = [...phaseMarks(r), Plot.lineY(data, { x: 't', y: 'v', stroke: 'series', marker: 'dot' })];
  if (max !== undefined) marks.push(Plot.ruleY([ms(max)], { stroke: '#c0392b', strokeDasharray: '6,3' }));
  return render({ x, y: { label: 'latency ms', grid: true }, color: { legend: true, domain: ['p50', 'p99'], range: ['#16a085', '#8e44ad'] }, marks: [...marks, Plot.ruleY([0])] });
}

export function resilienceChart(r: Report): string {
  const data = [...series(r, (s) => s.retries, 'retries'), ...series(r, (s) => s.ejections, 'ejections')];
  // A run with no retries and no ejections has an all-zero domain, which Plot labels ".000000".
  const quiet = data.every((d) => d.v === 0);
  return render({
    x,
    y: { label: 'per second', grid: true, ...(quiet ? { domain: [0, 1] } : {}) },
    color: { legend: true, domain: ['retries', 'ejections'], range: ['#e67e22', '#c0392b'] },
    marks: [...phaseMarks(r), Plot.lineY(data, { x: 't', y: 'v', stroke: 'series', marker: 'dot' }), Plot.ruleY([0])],
  });
}

/** Latency histogram, one row per phase (same bins for comparison). */
export function histogramChart(r: Report): string {
  const data = r.phases.flatMap((p) => p.latencies.map((v) => ({ v, phase: p.name })));
  if (data.length === 0) return '<p><em>No per-request latencies (observe mode: see the p50/p99 chart).</em></p>';
  return render({
    height: 90 * Math.max(1, r.phases.length) + 40,
    x: { label: 'latency ms', grid: true },
    y: { label: 'requests' },
    fy: { label: null, domain: r.phases.map((p) => p.name) },
    color: { domain: ['baseline', 'inject', 'recover'], range: ['#5b8fd1', '#d9534f', '#4cae4c'] },
    marks: [Plot.rectY(data, Plot.binX<Plot.RectYOptions>({ y: 'count' }, { x: 'v', fill: 'phase', fy: 'phase', thresholds: 30 })), Plot.ruleY([0])],
  });
}
