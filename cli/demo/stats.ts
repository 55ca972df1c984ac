// Reads every sidecar's /stats/prometheus once a second and turns the deltas
// over a short window into what the view shows: per route (destination
// service) and per reviews version, requests/s, success rate, p50/p99, plus
// retries, ejections and the config version each sidecar runs.
import type { Instance } from './mesh.js';
import { addBucket, addCounter, bucketDelta, delta, emptyTotals, parseProm, quantile, type Totals } from './prom.js';

export interface Row {
  readonly name: string;
  readonly rps: number;
  /** Fraction of non-5xx answers in the window; NaN with no traffic. */
  readonly success: number;
  readonly p50: number;
  readonly p99: number;
  /** Share of the group's requests (reviews versions only). */
  readonly share: number;
}

export interface MeshStats {
  readonly windowS: number;
  /** Outbound traffic as the calling sidecars saw it (reporter=source), per destination service. */
  readonly routes: readonly Row[];
  readonly reviewsVersions: readonly Row[];
  /** reviews requests per version since the sidecars started. */
  readonly reviewsTotals: ReadonlyMap<string, number>;
  /** Since the sidecars started, per destination service. */
  readonly retries: ReadonlyMap<string, number>;
  readonly ejections: ReadonlyMap<string, number>;
  /** Endpoints ejected right now, per destination service. */
  readonly ejectedNow: ReadonlyMap<string, number>;
  /** Sidecar name → config version it reports (meshlet_config_version_info). */
  readonly configVersions: ReadonlyMap<string, string>;
  readonly scrapeErrors: number;
}

const KEEP = new Set([
  'istio_requests_total',
  'istio_request_duration_milliseconds_bucket',
  'meshlet_retries_total',
  'meshlet_outlier_ejections_total',
  'meshlet_outlier_ejected_endpoints',
  'meshlet_config_version_info',
]);
const ROUTES = ['productpage', 'details', 'reviews', 'ratings'];
const VERSIONS = ['v1', 'v2', 'v3'];

/** reviews.default.svc.cluster.local → reviews */
const short = (svc: string): string => svc.split('.')[0] ?? svc;

interface Snap {
  readonly at: number;
  readonly totals: Totals;
}

export class MeshScraper {
  readonly #history: Snap[] = [];
  readonly #windowMs: number;

  constructor(windowMs = 5000) {
    this.#windowMs = windowMs;
  }

  async scrape(instances: readonly Instance[]): Promise<MeshStats> {
    const totals = emptyTotals();
    const configVersions = new Map<string, string>();
    const ejectedNow = new Map<string, number>();
    let scrapeErrors = 0;
    await Promise.all(
      instances.map(async (inst) => {
        if (inst.sidecar === undefined) return;
        let text: string;
        try {
          const res = await fetch(`http://127.0.0.1:${inst.sidecar.metrics}/stats/prometheus`, { signal: AbortSignal.timeout(2000) });
          text = await res.text();
        } catch {
          scrapeErrors++;
          return;
        }
        for (const s of parseProm(text, (n) => KEEP.has(n))) {
          const l = s.labels;
          if (s.name === 'meshlet_config_version_info') configVersions.set(inst.name, l['version'] ?? '?');
          else if (s.name === 'meshlet_retries_total') addCounter(totals, `retry|${short(l['destination_service'] ?? '')}`, s.value);
          else if (s.name === 'meshlet_outlier_ejections_total') addCounter(totals, `eject|${short(l['destination_service'] ?? '')}`, s.value);
          else if (s.name === 'meshlet_outlier_ejected_endpoints') {
            const svc = short(l['destination_service'] ?? '');
            ejectedNow.set(svc, (ejectedNow.get(svc) ?? 0) + s.value);
          } else if (l['reporter'] === 'source') {
            const svc = l['destination_service_name'] ?? 'unknown';
            const keys = [svc];
            if (svc === 'reviews') keys.push(`reviews@${l['destination_version'] ?? 'unknown'}`);
            for (const k of keys) {
              if (s.name === 'istio_requests_total') {
                const code = Number(l['response_code'] ?? 0);
                addCounter(totals, `req|${k}`, s.value);
                if (code >= 500 || code === 0) addCounter(totals, `err|${k}`, s.value);
              } else addBucket(totals, `dur|${k}`, Number(l['le']), s.value);
            }
          }
        }
      }),
    );
    const now: Snap = { at: Date.now(), totals };
    this.#history.push(now);
    while (this.#history.length > 2 && now.at - this.#history[1]!.at >= this.#windowMs) this.#history.shift();
    const base = this.#history.length > 1 ? this.#history[0] : undefined;
    const windowS = base ? (now.at - base.at) / 1000 : 0;

    const row = (key: string, name: string, groupTotal = 0): Row => {
      const n = delta(totals, base?.totals, `req|${key}`);
      const errs = delta(totals, base?.totals, `err|${key}`);
      const b = bucketDelta(totals, base?.totals, `dur|${key}`);
      return {
        name,
        rps: windowS > 0 ? n / windowS : 0,
        success: n > 0 ? (n - errs) / n : NaN,
        p50: quantile(0.5, b),
        p99: quantile(0.99, b),
        share: groupTotal > 0 ? n / groupTotal : NaN,
      };
    };
    const reviewsTotal = delta(totals, base?.totals, 'req|reviews');
    const since = (prefix: string): Map<string, number> => {
      const m = new Map<string, number>();
      for (const [k, v] of totals.counters) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), v);
      return m;
    };
    return {
      windowS,
      routes: ROUTES.map((r) => row(r, r)),
      reviewsVersions: VERSIONS.map((v) => row(`reviews@${v}`, `reviews ${v}`, reviewsTotal)),
      reviewsTotals: new Map(VERSIONS.map((v) => [v, totals.counters.get(`req|reviews@${v}`) ?? 0])),
      retries: since('retry|'),
      ejections: since('eject|'),
      ejectedNow,
      configVersions,
      scrapeErrors,
    };
  }
}
