// `observe: { prometheus: URL }`: the same per-second figures as the sidecar
// sampler, read from a Prometheus server that scrapes the sidecars, through
// its HTTP API (GET /api/v1/query). Each second takes the current sums of the
// cumulative series (retries, ejections, and the target service's
// caller-side requests and duration histogram) and the sampler keeps the
// deltas: per-phase totals are exact, but a second only sees what Prometheus
// had scraped by then, so per-second figures arrive in steps of its scrape
// interval.
import { addBucket, addCounter, emptyTotals, type Totals } from '../demo/prom.js';
import { secondOf, type MetricsSecond, type Sampler } from './metrics-sampler.js';

interface PromResponse {
  readonly status?: string;
  readonly error?: string;
  readonly data?: { readonly resultType?: string; readonly result?: ReadonlyArray<{ readonly metric: Readonly<Record<string, string>>; readonly value: readonly [number, string] }> };
}

/** A PromQL label value: backslash and double quote escaped. */
const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export class PrometheusSampler implements Sampler {
  readonly #base: URL;
  readonly #service: string | undefined;
  readonly #queries: ReadonlyArray<{ readonly q: string; readonly add: (t: Totals, metric: Readonly<Record<string, string>>, v: number) => void }>;
  #last: Totals | undefined;

  /** `service`: measure that destination's requests too (observe mode). */
  constructor(url: string, service?: string) {
    this.#base = new URL(url.endsWith('/') ? url : `${url}/`);
    this.#service = service;
    const sel = service === undefined ? '' : `{reporter="source",destination_service_name=${quote(service)}}`;
    this.#queries = [
      { q: 'sum(meshlet_retries_total)', add: (t, _m, v) => addCounter(t, 'retries', v) },
      { q: 'sum(meshlet_outlier_ejections_total)', add: (t, _m, v) => addCounter(t, 'ejections', v) },
      ...(service === undefined
        ? []
        : [
            {
              q: `sum by (response_code) (istio_requests_total${sel})`,
              add: (t: Totals, m: Readonly<Record<string, string>>, v: number) => {
                addCounter(t, 'requests', v);
                if (/^[23]/.test(m['response_code'] ?? '')) addCounter(t, 'ok', v);
              },
            },
            {
              q: `sum by (le) (istio_request_duration_milliseconds_bucket${sel})`,
              add: (t: Totals, m: Readonly<Record<string, string>>, v: number) => addBucket(t, 'duration', m['le'] === '+Inf' ? Infinity : Number(m['le']), v),
            },
          ]),
    ];
  }

  async #query(q: string, timeoutMs = 900): Promise<PromResponse['data']> {
    const url = new URL('api/v1/query', this.#base);
    url.searchParams.set('query', q);
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    const body = (await res.json()) as PromResponse;
    if (res.status !== 200 || body.status !== 'success') throw new Error(`prometheus ${url.origin}: ${q}: ${body.error ?? `HTTP ${res.status}`}`);
    return body.data;
  }

  async #read(): Promise<{ totals: Totals; unreachable: number }> {
    const totals = emptyTotals();
    let unreachable = 0;
    await Promise.all(
      this.#queries.map(async ({ q, add }) => {
        try {
          for (const r of (await this.#query(q))?.result ?? []) add(totals, r.metric, Number(r.value[1]));
        } catch {
          unreachable = 1;
        }
      }),
    );
    return { totals, unreachable };
  }

  /** The first reading; it must work, or the experiment could not observe anything. */
  async prime(): Promise<void> {
    await this.#query('vector(1)', 5000);
    // Retried a few times: a miss here would fold everything before the run into its first second.
    for (let i = 0; i < 5; i++) {
      const r = await this.#read();
      this.#last = r.totals;
      if (r.unreachable === 0) return;
    }
    throw new Error(`prometheus ${this.#base.origin}: no complete reading in 5 tries`);
  }

  async second(): Promise<MetricsSecond> {
    const { totals, unreachable } = await this.#read();
    // A failed read keeps the last good totals, so the next good one carries the whole delta.
    if (unreachable > 0) return secondOf(this.#last ?? totals, this.#last, 1, this.#service !== undefined);
    const before = this.#last;
    this.#last = totals;
    return secondOf(totals, before, 0, this.#service !== undefined);
  }
}
