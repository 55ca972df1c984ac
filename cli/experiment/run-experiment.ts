// One experiment, start to end: load (or observation) through baseline →
// inject → recover, the fault applied at the start of inject and reverted at
// its end, a sample every second, abortWhen checked every second of inject,
// and the report. The fault is reverted on every way out (normal end,
// abortWhen, Ctrl-C, an error); its TTL covers the one way this process
// cannot handle (being killed).
import { ms, placementOf, type Experiment } from './experiment-schema.js';
import type { FaultTarget } from './fault-target.js';
import { LoadGenerator, type SecondBucket } from './load-generator.js';
import { MetricsSampler, type MetricsSecond, type Sampler } from './metrics-sampler.js';
import { PrometheusSampler } from './prometheus-sampler.js';
import { PHASES, type ConfigEvent, type PhaseName, type PhaseResult, type Report, type Sample, type Verdict } from './report-model.js';
import { abortReason, checksPhase, exitCodeOf, percentile, rate, violations } from './verdict.js';

export interface LiveUpdate {
  readonly phase: PhaseName;
  /** Seconds since start, and each phase's [start, end] in seconds. */
  readonly t: number;
  readonly bounds: Readonly<Record<PhaseName, readonly [number, number]>>;
  readonly last: Sample | undefined;
}

export interface RunOptions {
  readonly file: string;
  readonly experiment: Experiment;
  readonly target: FaultTarget;
  /** Extra time the fault may outlive the inject phase if this process dies. */
  readonly ttlMarginMs: number;
  /** Aborted on Ctrl-C / SIGTERM: the run stops, reverts and reports. */
  readonly signal: AbortSignal;
  readonly versionBefore?: () => Promise<string>;
  readonly onUpdate?: (u: LiveUpdate) => void;
  readonly onEvent?: (line: string) => void;
}

const sleep = (msec: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, Math.max(0, msec));
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

function thin(xs: readonly number[], max: number): number[] {
  if (xs.length <= max) return [...xs];
  const step = xs.length / max;
  return Array.from({ length: max }, (_, i) => xs[Math.floor(i * step)]!);
}

export async function runExperiment(o: RunOptions): Promise<Report> {
  const e = o.experiment;
  const spec = e.spec;
  const durations: Record<PhaseName, number> = { baseline: ms(spec.phases.baseline), inject: ms(spec.phases.inject), recover: ms(spec.phases.recover) };
  const ttlMs = durations.inject + o.ttlMarginMs;
  const load = spec.load
    ? new LoadGenerator({ ...spec.load, timeoutMs: ms(spec.load.timeout), ...(spec.load.headers ? { headers: spec.load.headers } : {}) })
    : undefined;
  const observed = load ? undefined : (spec.observe?.service ?? spec.target.host);
  const sampler: Sampler | undefined =
    spec.observe?.prometheus !== undefined
      ? new PrometheusSampler(spec.observe.prometheus, observed)
      : spec.observe?.metrics !== undefined
        ? new MetricsSampler(spec.observe.metrics, observed)
        : undefined;
  const events: ConfigEvent[] = [];
  const metricSeconds: MetricsSecond[] = [];
  const bounds = { baseline: [0, 0], inject: [0, 0], recover: [0, 0] } as Record<PhaseName, [number, number]>;
  const reached = new Set<PhaseName>();
  const completed = new Set<PhaseName>();
  const stop = new AbortController();
  const onOuter = (): void => stop.abort();
  o.signal.addEventListener('abort', onOuter, { once: true });
  let stoppedEarly: { t: number; reason: string } | undefined;
  let error: string | undefined;
  let applied = false;
  let faultIn = false;
  let revertFailed = false;
  // The time origin moves to when the load starts (after the policy and the first scrape).
  let t0 = Date.now();
  const sec = (): number => (Date.now() - t0) / 1000;
  const event = (kind: ConfigEvent['kind'], version: string, detail?: string): void => {
    events.push({ t: sec(), at: new Date().toISOString(), kind, version, ...(detail !== undefined ? { detail } : {}) });
    o.onEvent?.(`${kind}: ${version}${detail ? ` (${detail})` : ''}`);
  };
  const policy = spec.policy !== undefined;
  const revert = async (): Promise<void> => {
    if (!applied) return;
    applied = false;
    try {
      const r = await o.target.revert();
      event(faultIn ? 'fault-reverted' : 'overlay-removed', r.version);
      faultIn = false;
    } catch (err) {
      revertFailed = true;
      event('revert-failed', 'unknown', `${(err as Error).message}; the fault still expires by its TTL`);
    }
  };
  const sampleOf = (i: number, phase: PhaseName): Sample => {
    const b: SecondBucket | undefined = load?.buckets[i];
    const m = metricSeconds[i];
    if (load) {
      const lat = [...(b?.latencies ?? [])].sort((x, y) => x - y);
      const done = (b?.ok ?? 0) + (b?.failed ?? 0);
      return { t: i, phase, requests: done, ok: b?.ok ?? 0, failed: b?.failed ?? 0, successRate: rate(b?.ok ?? 0, done), p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), retries: m?.retries ?? 0, ejections: m?.ejections ?? 0 };
    }
    const req = m?.requests ?? 0;
    const ok = m?.ok ?? 0;
    const fin = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);
    return { t: i, phase, requests: req, ok, failed: req - ok, successRate: rate(ok, req), p50: fin(m?.p50), p99: fin(m?.p99), retries: m?.retries ?? 0, ejections: m?.ejections ?? 0 };
  };
  // A second belongs to the phase its middle falls in.
  const phaseAt = (second: number): PhaseName => {
    const t = second + 0.5;
    return t >= bounds.recover[0] && reached.has('recover') ? 'recover' : t >= bounds.inject[0] && reached.has('inject') ? 'inject' : 'baseline';
  };

  try {
    if (o.versionBefore) event('before', await o.versionBefore());
    if (policy) {
      const total = durations.baseline + durations.inject + durations.recover + o.ttlMarginMs;
      const r = await o.target.apply(total, false);
      applied = true;
      event('policy-applied', r.version, `${JSON.stringify(spec.policy)} for the whole run`);
    }
    await sampler?.prime();
    const shift = (Date.now() - t0) / 1000;
    t0 = Date.now();
    for (const ev of events.splice(0)) events.push({ ...ev, t: ev.t - shift });
    load?.start(t0);
    for (const phase of PHASES) {
      if (stop.signal.aborted) break;
      reached.add(phase);
      if (load) load.phase = phase;
      const start = sec();
      const prev = PHASES[PHASES.indexOf(phase) - 1];
      if (prev !== undefined) bounds[prev] = [bounds[prev][0], start];
      bounds[phase] = [start, start + durations[phase] / 1000];
      if (phase === 'inject') {
        // From the moment the fault is sent its requests count as inject (some
        // sidecars may have it already); the planned duration runs from when all have it.
        const r = await o.target.apply(ttlMs, true);
        applied = true;
        faultIn = true;
        event('fault-applied', r.version, `${o.target.describe}, expires in ${ttlMs} ms unless reverted`);
        bounds[phase] = [start, sec() + durations[phase] / 1000];
      }
      const end = t0 + bounds[phase][1] * 1000;
      while (!stop.signal.aborted && Date.now() < end) {
        const next = Math.min(end, t0 + (Math.floor(sec()) + 1) * 1000);
        await sleep(next - Date.now(), stop.signal);
        if (sampler && next === t0 + Math.round((next - t0) / 1000) * 1000) {
          const i = Math.round((next - t0) / 1000) - 1;
          metricSeconds[i] = await sampler.second();
        }
        const last = Math.floor(sec()) - 1;
        const s = last >= 0 ? sampleOf(last, phaseAt(last)) : undefined;
        o.onUpdate?.({ phase, t: sec(), bounds, last: s });
        const why = phase === 'inject' && s !== undefined && s.t >= bounds.inject[0] ? abortReason(e, s) : undefined;
        if (why !== undefined) {
          stoppedEarly = { t: sec(), reason: why };
          stop.abort();
        }
      }
      if (!stop.signal.aborted) completed.add(phase);
      bounds[phase] = [start, Math.min(bounds[phase][1], sec())];
      // The revert below still counts as inject: the fault is in until the sidecars have dropped it.
      if (phase === 'inject') {
        if (!policy) await revert();
        else if (applied) {
          // Keep the policy under test through recover; only the fault goes.
          try {
            const r = await o.target.apply(durations.recover + o.ttlMarginMs, false);
            faultIn = false;
            event('fault-reverted', r.version, 'policy kept for recover');
          } catch (err) {
            await revert();
            throw err;
          }
        }
      }
    }
    if (o.signal.aborted && stoppedEarly === undefined) stoppedEarly = { t: sec(), reason: 'interrupted (SIGINT/SIGTERM)' };
  } catch (err) {
    error = (err as Error).message;
    stoppedEarly ??= { t: sec(), reason: `error: ${error}` };
  } finally {
    await revert();
    await load?.stop();
    o.signal.removeEventListener('abort', onOuter);
  }

  const seconds = Math.max(load?.buckets.length ?? 0, metricSeconds.length);
  const samples: Sample[] = Array.from({ length: seconds }, (_, i) => sampleOf(i, phaseAt(i)));
  const phases: PhaseResult[] = PHASES.filter((p) => reached.has(p)).map((name) => {
    let requests: number;
    let ok: number;
    let lat: number[];
    let p99: number | null;
    let p50: number | null;
    const inPhase = samples.filter((s) => s.phase === name);
    if (load) {
      const b = load.byPhase.get(name);
      ok = b?.ok ?? 0;
      requests = ok + (b?.failed ?? 0);
      lat = [...(b?.latencies ?? [])].sort((x, y) => x - y);
      p50 = percentile(lat, 0.5);
      p99 = percentile(lat, 0.99);
    } else {
      requests = inPhase.reduce((a, s) => a + s.requests, 0);
      ok = inPhase.reduce((a, s) => a + s.ok, 0);
      lat = [];
      // Observe mode: per-second quantiles from histograms; the phase shows the worst second.
      const worst = (k: 'p50' | 'p99'): number | null => inPhase.reduce<number | null>((m, s) => (s[k] === null ? m : Math.max(m ?? 0, s[k]!)), null);
      p50 = worst('p50');
      p99 = worst('p99');
    }
    const successRate = rate(ok, requests);
    const checked = checksPhase(e, name);
    const retries = inPhase.reduce((a, s) => a + s.retries, 0);
    const v = checked ? violations(e, { successRate, p99, requests, retries }) : [];
    return {
      name,
      start: bounds[name][0],
      end: bounds[name][1],
      completed: completed.has(name),
      requests,
      ok,
      successRate,
      p50,
      p99,
      retries,
      ejections: inPhase.reduce((a, s) => a + s.ejections, 0),
      outcomes: load?.byPhase.get(name)?.outcomes ?? {},
      checked,
      held: checked ? v.length === 0 : null,
      violations: v,
      latencies: thin(lat, 4000),
    };
  });
  const abortedByRule = stoppedEarly?.reason.startsWith('abortWhen') === true;
  let verdict: Verdict;
  if (error !== undefined || revertFailed || (stoppedEarly !== undefined && !abortedByRule)) verdict = 'could-not-run';
  else if (abortedByRule || phases.some((p) => p.held === false)) verdict = 'violated';
  else verdict = 'held';
  return {
    experiment: e,
    file: o.file,
    startedAt: new Date(t0).toISOString(),
    target: o.target.describe,
    placement: placementOf(e),
    ttlMs,
    samples,
    phases,
    events,
    verdict,
    exitCode: exitCodeOf(verdict),
    ...(stoppedEarly ? { stoppedEarly } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}
