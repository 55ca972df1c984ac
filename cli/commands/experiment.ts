// `meshlet experiment run FILE` / `meshlet experiment compare A B`: a fault
// with a hypothesis, built-in load, automatic revert and a report.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDuration } from '../../proxy/config/istio/index.js';
import { loadExperiment, needsOverlay, type Experiment } from '../experiment/experiment-schema.js';
import { configDirTarget, controlPlaneGeneration, controlPlaneTarget, type FaultTarget } from '../experiment/fault-target.js';
import { LiveView } from '../experiment/live-view.js';
import { combinedTarget, networkFaultTarget } from '../experiment/network-fault.js';
import type { Report } from '../experiment/report-model.js';
import { renderCompareHtml, renderReportHtml } from '../experiment/report-html.js';
import { runExperiment } from '../experiment/run-experiment.js';
import { ADMIN_CALL_FLAGS, adminCallOptions } from '../admin-call-flags.js';
import { flagsHelp, parseOrUsage, type FlagSpec } from '../flags.js';

const SPEC = {
  'control-plane': { type: 'string', help: 'push the fault to this control plane (HOST:PORT of its gRPC port; loopback or mTLS); not needed for a network-only fault' },
  'config-dir': { type: 'string', help: 'or write the fault as a file into this Istio YAML directory (standalone sidecars or a control plane watch it)' },
  report: { type: 'string', help: 'write report.json and report.html (compare: compare.html) into this directory' },
  via: { type: 'string', help: "override spec.load.via (HOST:PORT of a sidecar's outbound listener)" },
  metrics: { type: 'string', help: 'override spec.observe.metrics (comma-separated HOST:PORT of sidecar metrics ports)' },
  prometheus: { type: 'string', help: 'override spec.observe.prometheus (base URL of a Prometheus scraping the sidecars)' },
  'ttl-margin': { type: 'string', default: '10s', help: 'the fault expires this long after the inject phase should have ended, even if this process is killed' },
  'no-tty': { type: 'boolean', default: false, help: 'plain lines, one per second (automatic when stdout is not a terminal)' },
  ...ADMIN_CALL_FLAGS,
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet experiment run FILE [flags]
       meshlet experiment compare A.yaml B.yaml [flags]

Runs a fault-injection experiment: baseline → inject (the fault is in) →
recover, with built-in open-loop load through a sidecar (or observing real
traffic), checks the hypothesis in every phase, and always reverts the fault
(at the end, on Ctrl-C, on an error; by its TTL if the runner is killed).
Exit code: 0 the hypothesis held, 1 it was violated (or abortWhen tripped),
2 the experiment could not run. compare runs A then B and reports them side
by side (exit 0 only if both held).`,
  SPEC,
);

type Flags = ReturnType<typeof parseOrUsage<typeof SPEC>> & {};

function withOverrides(e: Experiment, f: Flags['flags']): Experiment {
  let spec = e.spec;
  if (f.via !== undefined && spec.load) spec = { ...spec, load: { ...spec.load, via: f.via } };
  if (f.metrics !== undefined) {
    const { prometheus: _replaced, ...rest } = spec.observe ?? {};
    spec = { ...spec, observe: { ...rest, metrics: f.metrics.split(',').map((s) => s.trim()).filter((s) => s !== '') } };
  }
  if (f.prometheus !== undefined) {
    const { metrics: _replaced, ...rest } = spec.observe ?? {};
    spec = { ...spec, observe: { ...rest, prometheus: f.prometheus } };
  }
  return { ...e, spec };
}

async function runOne(file: string, f: Flags['flags'], signal: AbortSignal, view: LiveView): Promise<Report | string> {
  const loaded = await loadExperiment(file);
  if (!loaded.ok) return `invalid experiment:\n  ${loaded.errors.join('\n  ')}`;
  const e = withOverrides(loaded.experiment, f);
  if (e.spec.load === undefined && (e.spec.observe?.metrics?.length ?? 0) === 0 && e.spec.observe?.prometheus === undefined) return 'spec.load, spec.observe.metrics or spec.observe.prometheus is needed';
  const cp = f['control-plane'];
  const dir = f['config-dir'];
  if (cp !== undefined && dir !== undefined) return 'give one of --control-plane HOST:PORT or --config-dir DIR, not both';
  if (needsOverlay(e) && cp === undefined && dir === undefined) return 'give --control-plane HOST:PORT or --config-dir DIR (the delay/abort fault or the policy is a VirtualService overlay)';
  const call = cp !== undefined ? adminCallOptions(f) : {};
  if (typeof call === 'string') return call;
  const overlay: FaultTarget | undefined = !needsOverlay(e) ? undefined : cp !== undefined ? controlPlaneTarget(e, cp, call) : configDirTarget(e, dir!);
  const net = e.spec.fault.network !== undefined ? networkFaultTarget(e.spec.fault.network) : undefined;
  const target: FaultTarget = overlay && net ? combinedTarget(overlay, net) : (overlay ?? net)!;
  const margin = parseDuration(f['ttl-margin'] ?? '10s');
  if (margin === undefined) return `--ttl-margin: not a duration: ${f['ttl-margin'] ?? ''}`;
  view.note(`experiment ${e.metadata.name}: ${e.spec.phases.baseline} baseline, ${e.spec.phases.inject} inject, ${e.spec.phases.recover} recover; fault via ${target.describe}`);
  return runExperiment({
    file,
    experiment: e,
    target,
    ttlMarginMs: margin,
    signal,
    ...(cp !== undefined && overlay !== undefined ? { versionBefore: () => controlPlaneGeneration(cp, call) } : {}),
    onUpdate: (u) => view.update(u),
    onEvent: (line) => view.note(line),
  });
}

function summary(r: Report): string {
  const lines = r.phases.map(
    (p) =>
      `  ${p.name.padEnd(9)} ${String(p.requests).padStart(6)} req  success ${p.successRate === null ? '–' : (p.successRate * 100).toFixed(2) + '%'}  p50 ${p.p50 ?? '–'} ms  p99 ${p.p99 ?? '–'} ms  retries ${p.retries}  ejections ${p.ejections}  ${p.held === null ? 'not checked' : p.held ? 'held' : 'VIOLATED: ' + p.violations.join('; ')}${Object.keys(p.outcomes).length > 0 ? `\n            outcomes ${JSON.stringify(p.outcomes)}` : ''}`,
  );
  const stopped = r.stoppedEarly ? `\n  stopped early at ${r.stoppedEarly.t.toFixed(1)} s: ${r.stoppedEarly.reason}` : '';
  return `${r.experiment.metadata.name}: ${r.verdict.toUpperCase()} (exit ${r.exitCode})${stopped}\n${lines.join('\n')}\n`;
}

async function writeReport(dir: string, r: Report, prefix = 'report'): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${prefix}.json`), JSON.stringify(r, null, 2) + '\n');
  await writeFile(join(dir, `${prefix}.html`), renderReportHtml(r));
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const parsed = parseOrUsage(rest, SPEC, help);
  if (parsed === undefined) return 2;
  const f = parsed.flags;
  const files = parsed.positionals;
  if (!((sub === 'run' && files.length === 1) || (sub === 'compare' && files.length === 2))) {
    process.stderr.write(`meshlet experiment: expected "run FILE" or "compare A B"\n\n${help}`);
    return 2;
  }
  const view = new LiveView(process.stdout.isTTY === true && !f['no-tty']);
  // Ctrl-C / SIGTERM: stop, revert, report (a second Ctrl-C is ignored until the revert is done).
  const ctl = new AbortController();
  const onSignal = (): void => ctl.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const reports: Report[] = [];
    for (const file of files) {
      if (ctl.signal.aborted) break;
      const r = await runOne(file, f, ctl.signal, view);
      if (typeof r === 'string') {
        process.stderr.write(`meshlet experiment: ${file}: ${r}\n`);
        return 2;
      }
      process.stdout.write(summary(r));
      reports.push(r);
    }
    const dir = f.report;
    if (sub === 'run') {
      const r = reports[0]!;
      if (dir !== undefined) {
        await writeReport(dir, r);
        process.stdout.write(`report: ${join(dir, 'report.html')} (data: report.json)\n`);
      }
      return r.exitCode;
    }
    if (reports.length < 2) return 2;
    const [a, b] = reports as [Report, Report];
    if (dir !== undefined) {
      await writeReport(dir, a, 'a');
      await writeReport(dir, b, 'b');
      await writeFile(join(dir, 'compare.html'), renderCompareHtml(a, b));
      process.stdout.write(`report: ${join(dir, 'compare.html')} (data: a.json, b.json)\n`);
    }
    return Math.max(a.exitCode, b.exitCode);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
