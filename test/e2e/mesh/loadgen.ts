// A load generator that runs inside a pod as the app's uid, so its plain
// `http://reviews:9080/` calls are captured like any app's. Shipped as source
// text for `node -e` (no build step, ~50 ms start). It prints
// `LOADGEN started`, `LOADGEN progress N`, and one `LOADGEN result {json}`.
// It stops after `count` requests, or on SIGTERM after the in-flight ones.

export interface LoadSpec {
  readonly url: string;
  /** Stop after this many requests (Infinity = until SIGTERM). */
  readonly count: number;
  readonly concurrency: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Each request gets `x-request-id: <prefix>-<i>`. */
  readonly requestIdPrefix: string;
  /** Per-request client timeout; generous, the mesh's own timeouts are what we test. */
  readonly timeoutMs?: number;
}

export interface LoadResult {
  readonly sent: number;
  /** Responses with status 200..299. */
  readonly ok: number;
  /** Response count by status code. */
  readonly status: Record<string, number>;
  /** Client-side errors (no response) by error code. */
  readonly errors: Record<string, number>;
  /** 2xx responses by the answering pod (the JSON body's `pod`). */
  readonly pods: Record<string, number>;
  readonly minMs: number;
  readonly maxMs: number;
  /** The first few non-2xx outcomes, for failure messages. */
  readonly samples: readonly string[];
}

const SOURCE = `
const http = require('http');
const spec = JSON.parse(process.env.LOADGEN);
const count = spec.count === null ? Infinity : spec.count;
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
const r = { sent: 0, ok: 0, status: {}, errors: {}, pods: {}, minMs: Infinity, maxMs: 0, samples: [] };
let stop = false;
process.on('SIGTERM', () => { stop = true; });
const inc = (o, k) => { o[k] = (o[k] || 0) + 1; };
function one(i) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const headers = Object.assign({}, spec.headers || {}, { 'x-request-id': spec.requestIdPrefix + '-' + i });
    const done = (what, status, body) => {
      const ms = performance.now() - t0;
      r.minMs = Math.min(r.minMs, ms); r.maxMs = Math.max(r.maxMs, ms);
      if (status >= 200 && status < 300) {
        r.ok++;
        let pod = 'unparsed';
        try { pod = JSON.parse(body).pod || 'none'; } catch {}
        inc(r.pods, pod);
      } else if (r.samples.length < 5) r.samples.push(i + ': ' + what + ' ' + String(body).slice(0, 200));
      resolve();
    };
    const req = http.get(spec.url, { agent, headers, timeout: spec.timeoutMs || 20000 }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (b += c));
      res.on('end', () => { inc(r.status, res.statusCode); done('status ' + res.statusCode + ' flags=' + (res.headers['x-meshlet-flags'] || ''), res.statusCode, b); });
      res.on('error', (e) => { inc(r.errors, e.code || e.message); done('body error ' + (e.code || e.message), 0, ''); });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (e) => { inc(r.errors, e.code || e.message); done('error ' + (e.code || e.message), 0, ''); });
  });
}
async function worker() {
  while (!stop && r.sent < count) {
    const i = r.sent++;
    await one(i);
    if ((i + 1) % 50 === 0) console.log('LOADGEN progress ' + (i + 1));
  }
}
console.log('LOADGEN started');
Promise.all(Array.from({ length: spec.concurrency }, worker)).then(() => {
  if (r.minMs === Infinity) r.minMs = 0;
  console.log('LOADGEN result ' + JSON.stringify(r));
  agent.destroy();
});
`;

/** argv and env for `node -e` running one load spec. */
export function loadgenCommand(spec: LoadSpec): { args: string[]; env: Record<string, string> } {
  const wire = { ...spec, count: Number.isFinite(spec.count) ? spec.count : null };
  return { args: ['-e', SOURCE], env: { LOADGEN: JSON.stringify(wire) } };
}

/** Parses the result line out of a loadgen's output; throws with the output when absent. */
export function parseLoadResult(output: string): LoadResult {
  const line = output.split('\n').find((l) => l.startsWith('LOADGEN result '));
  if (line === undefined) throw new Error(`loadgen printed no result; output:\n${output.slice(-2000)}`);
  return JSON.parse(line.slice('LOADGEN result '.length)) as LoadResult;
}

/** How many `LOADGEN progress` lines (one per 50 requests done) an open-ended load has printed. */
export function progressLines(output: string): number {
  return output.split('\n').filter((l) => l.startsWith('LOADGEN progress')).length;
}
