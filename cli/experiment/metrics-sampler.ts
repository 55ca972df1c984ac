// Scrapes sidecar metrics endpoints once a second for what the load generator
// cannot see: retries and outlier ejections (every sidecar, summed), and, for
// `observe:` experiments without built-in load, the request figures of the
// target service's real traffic (caller-side istio_requests_total and the
// duration histogram, as PromQL's increase/histogram_quantile would).
import { addBucket, addCounter, bucketDelta, delta, emptyTotals, parseProm, quantile, type Totals } from '../demo/prom.js';

export interface MetricsSecond {
  readonly retries: number;
  readonly ejections: number;
  /** Only for observe-only experiments: the target service's traffic in this second. */
  readonly requests?: number;
  readonly ok?: number;
  readonly p50?: number;
  readonly p99?: number;
  /** Endpoints that did not answer this scrape. */
  readonly unreachable: number;
}

const WANTED = new Set(['meshlet_retries_total', 'meshlet_outlier_ejections_total', 'istio_requests_total', 'istio_request_duration_milliseconds_bucket']);

export class MetricsSampler implements Sampler {
  readonly #endpoints: readonly string[];
  readonly #service: string | undefined;
  #last: Totals | undefined;

  /** `service`: measure that destination's requests too (observe mode). */
  constructor(endpoints: readonly string[], service?: string) {
    this.#endpoints = endpoints;
    this.#service = service;
  }

  async #scrape(): Promise<{ totals: Totals; unreachable: number }> {
    const totals = emptyTotals();
    let unreachable = 0;
    await Promise.all(
      this.#endpoints.map(async (ep) => {
        let text: string;
        try {
          const res = await fetch(`http://${ep}/stats/prometheus`, { signal: AbortSignal.timeout(800) });
          text = await res.text();
        } catch {
          unreachable++;
          return;
        }
        for (const s of parseProm(text, (n) => WANTED.has(n))) {
          if (s.name === 'meshlet_retries_total') addCounter(totals, 'retries', s.value);
          else if (s.name === 'meshlet_outlier_ejections_total') addCounter(totals, 'ejections', s.value);
          else if (this.#service !== undefined && s.labels['reporter'] === 'source' && s.labels['destination_service_name'] === this.#service) {
            if (s.name === 'istio_requests_total') {
              addCounter(totals, 'requests', s.value);
              if (/^[23]/.test(s.labels['response_code'] ?? '')) addCounter(totals, 'ok', s.value);
            } else addBucket(totals, 'duration', s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']), s.value);
          }
        }
      }),
    );
    return { totals, unreachable };
  }

  /** The baseline scrape: later seconds are deltas from it. */
  async prime(): Promise<void> {
    this.#last = (await this.#scrape()).totals;
  }

  async second(): Promise<MetricsSecond> {
    const { totals, unreachable } = await this.#scrape();
    const before = this.#last;
    this.#last = totals;
    return secondOf(totals, before, unreachable, this.#service !== undefined);
  }
}

/** Where the per-second figures come from: sidecar metrics ports, or a Prometheus server. */
export interface Sampler {
  prime(): Promise<void>;
  second(): Promise<MetricsSecond>;
}

/** One second's figures from two cumulative readings (counters: retries, ejections, requests, ok; histogram: duration). */
export function secondOf(totals: Totals, before: Totals | undefined, unreachable: number, withTraffic: boolean): MetricsSecond {
  const out: { -readonly [K in keyof MetricsSecond]: MetricsSecond[K] } = { retries: delta(totals, before, 'retries'), ejections: delta(totals, before, 'ejections'), unreachable };
  if (withTraffic) {
    const b = bucketDelta(totals, before, 'duration');
    out.requests = delta(totals, before, 'requests');
    out.ok = delta(totals, before, 'ok');
    out.p50 = quantile(0.5, b);
    out.p99 = quantile(0.99, b);
  }
  return out;
}
