// report.html: one self-contained page (inline CSS and SVG, no script, no
// network) saying what was done, what was expected, what happened per phase
// and the verdict, with the charts. `compare` puts two runs side by side.
import { ms, type Experiment } from './experiment-schema.js';
import { histogramChart, latencyChart, rateChart, resilienceChart, successChart } from './report-charts.js';
import { describeNetworkFault } from './network-fault.js';
import type { Report } from './report-model.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);
const msf = (v: number | null): string => (v === null ? '–' : `${v.toFixed(0)} ms`);

export function faultInWords(e: Experiment, placement: 'client' | 'server'): string {
  const t = e.spec.target;
  const parts: string[] = [];
  const f = e.spec.fault;
  if (f.delay) parts.push(`delay ${f.delay.percentage}% of requests by ${f.delay.fixedDelay}`);
  if (f.abort) parts.push(`abort ${f.abort.percentage}% of requests with HTTP ${f.abort.httpStatus}`);
  if (f.network) parts.push(describeNetworkFault(f.network));
  const labels = t.labels ? Object.entries(t.labels).map(([k, v]) => `${k}=${v}`).join(',') : '';
  const who = `${t.host}${t.subset ? ` (subset ${t.subset})` : ''}${labels ? ` (pods labelled ${labels})` : ''}`;
  const narrowed = t.match ? `, only requests matching ${JSON.stringify(t.match)}` : '';
  const where = placement === 'server' ? "in the destination's inbound sidecars, so callers' retries and outlier detection see real failures" : "in the callers' sidecars (Istio's placement: retries do not apply to an injected fault)";
  return `${parts.join(' and ')} to ${who}${narrowed}, ${where}, for ${e.spec.phases.inject}.`;
}

export function hypothesisInWords(e: Experiment): string {
  const h = e.spec.hypothesis;
  const parts: string[] = [];
  if (h.successRate) parts.push(`success rate ≥ ${(h.successRate.min * 100).toFixed(2)}%`);
  if (h.latencyP99) parts.push(`p99 latency ≤ ${ms(h.latencyP99.max)} ms`);
  if (h.retriesPerRequest) parts.push(`at most ${h.retriesPerRequest.max} retries per request`);
  const when = h.during ? 'in every phase, the fault included' : 'in baseline and recover (not while the fault is in)';
  let s = `Steady state: ${parts.join(' and ') || 'requests complete'} ${when}.`;
  const a = e.spec.abortWhen;
  if (a) {
    const stops: string[] = [];
    if (a.successRate) stops.push(`success rate < ${(a.successRate.below * 100).toFixed(1)}%`);
    if (a.latencyP99) stops.push(`p99 > ${ms(a.latencyP99.above)} ms`);
    s += ` Stop early and revert if, in any second of inject, ${stops.join(' or ')}.`;
  }
  return s;
}

function phaseTable(r: Report): string {
  const rows = r.phases
    .map((p) => {
      const verdict = p.held === null ? 'not checked' : p.held ? '✔ held' : `✘ ${p.violations.map(esc).join('; ')}`;
      return `<tr class="${p.held === false ? 'bad' : ''}"><td>${p.name}${p.completed ? '' : ' (cut short)'}</td><td>${p.start.toFixed(1)}–${p.end.toFixed(1)} s</td><td>${p.requests}</td><td>${pct(p.successRate)}</td><td>${msf(p.p50)}</td><td>${msf(p.p99)}</td><td>${p.retries}</td><td>${p.ejections}</td><td>${esc(Object.entries(p.outcomes).map(([k, v]) => `${k}: ${v}`).join(', ') || '–')}</td><td>${verdict}</td></tr>`;
    })
    .join('');
  return `<table><thead><tr><th>phase</th><th>time</th><th>requests</th><th>success</th><th>p50</th><th>p99</th><th>retries</th><th>ejections</th><th>outcomes</th><th>hypothesis</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function runSection(r: Report, title: string): string {
  const verdictClass = r.verdict === 'held' ? 'held' : r.verdict === 'violated' ? 'violated' : 'error';
  const events = r.events.map((e) => `<li>${e.t.toFixed(1)} s — ${esc(e.kind)}: ${esc(e.version)}${e.detail ? ` (${esc(e.detail)})` : ''}</li>`).join('');
  return `<section class="run">
<h2>${esc(title)} <span class="verdict ${verdictClass}">${r.verdict.toUpperCase()} (exit ${r.exitCode})</span></h2>
<p class="muted">${esc(r.file)} · started ${esc(r.startedAt)} · fault via ${esc(r.target)} · TTL ${r.ttlMs} ms</p>
<p><strong>Fault:</strong> ${esc(faultInWords(r.experiment, r.placement))}</p>
${r.experiment.spec.policy ? `<p><strong>Policy under test</strong> (whole run, on ${esc(r.experiment.spec.target.host)}): <code>${esc(JSON.stringify(r.experiment.spec.policy))}</code></p>` : ''}
<p><strong>Hypothesis:</strong> ${esc(hypothesisInWords(r.experiment))}</p>
${r.stoppedEarly ? `<p class="stopped"><strong>Stopped early</strong> at ${r.stoppedEarly.t.toFixed(1)} s: ${esc(r.stoppedEarly.reason)}</p>` : ''}
${phaseTable(r)}
<h3>Request rate</h3><div class="chart" data-chart="rate">${rateChart(r)}</div>
<h3>Success rate</h3><div class="chart" data-chart="success">${successChart(r)}</div>
<h3>Latency p50 / p99</h3><div class="chart" data-chart="latency">${latencyChart(r)}</div>
<h3>Retries and ejections</h3><div class="chart" data-chart="resilience">${resilienceChart(r)}</div>
<h3>Latency histogram per phase</h3><div class="chart" data-chart="histogram">${histogramChart(r)}</div>
<h3>Config changes</h3><ul>${events || '<li>none recorded</li>'}</ul>
</section>`;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px}code{overflow-wrap:anywhere}h2{font-size:17px;margin-top:0}h3{font-size:14px;margin:18px 0 4px}
.muted{color:#666;font-size:12px}.verdict{font-size:13px;padding:2px 8px;border-radius:4px;color:#fff;margin-left:8px}
.held{background:#27ae60}.violated{background:#c0392b}.error{background:#7f8c8d}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child,td:last-child{text-align:left}
tr.bad td{background:#fdecea}.stopped{color:#c0392b}.legend{font-size:12px;color:#555}
.sbs{display:grid;grid-template-columns:1fr 1fr;gap:24px}.run{min-width:0}.run table{display:block;max-width:100%;overflow-x:auto}.chart svg{max-width:100%}`;

const LEGEND = `<p class="legend">Shading: <span style="background:#e8f1fb">baseline</span> <span style="background:#fde2e1">inject</span> <span style="background:#e6f5e9">recover</span>; dashed red/green rules: fault applied / reverted; dashed red line: the hypothesis limit; black rule: stopped early.</p>`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>\n`;
}

export function renderReportHtml(r: Report): string {
  const name = r.experiment.metadata.name;
  return page(`Experiment ${name}`, `<h1>Experiment ${esc(name)}</h1>${r.experiment.metadata.description ? `<p>${esc(r.experiment.metadata.description)}</p>` : ''}${LEGEND}${runSection(r, name)}`);
}

export function renderCompareHtml(a: Report, b: Report): string {
  const row = (label: string, f: (r: Report) => string): string => `<tr><td>${label}</td><td>${f(a)}</td><td>${f(b)}</td></tr>`;
  const inj = (r: Report): Report['phases'][number] | undefined => r.phases.find((p) => p.name === 'inject');
  const summary = `<table><thead><tr><th></th><th>${esc(a.experiment.metadata.name)}</th><th>${esc(b.experiment.metadata.name)}</th></tr></thead><tbody>
${row('verdict', (r) => `${r.verdict} (exit ${r.exitCode})`)}
${row('success during inject', (r) => pct(inj(r)?.successRate ?? null))}
${row('p99 during inject', (r) => msf(inj(r)?.p99 ?? null))}
${row('retries during inject', (r) => String(inj(r)?.retries ?? 0))}
${row('ejections during inject', (r) => String(inj(r)?.ejections ?? 0))}
</tbody></table>`;
  const title = `${a.experiment.metadata.name} vs ${b.experiment.metadata.name}`;
  return page(`Compare: ${title}`, `<h1>Compare: ${esc(title)}</h1>${summary}${LEGEND}<div class="sbs">${runSection(a, a.experiment.metadata.name)}${runSection(b, b.experiment.metadata.name)}</div>`);
}
