// Open-loop load at a fixed rate over a fixed pool of keep-alive connections.
// Requests are released on a schedule that does not wait for responses; the
// latency of each one is measured from the tick that released it, so time
// spent queued for a busy connection (a stalled target) is counted, and the
// coordinated-omission trap of closed-loop tools is avoided. The driver's own
// timer lag (intended → released) is reported separately: Node timers tick at
// ~1 ms, so a release is up to ~1 ms late, which is the generator's doing and
// is therefore not charged to the target.
import http from 'node:http';
import { summarize, type LatencySummary } from './latency-summary.js';

export interface OpenLoopOptions {
  readonly port: number;
  readonly path: string;
  readonly method?: 'GET' | 'POST';
  readonly body?: Buffer;
  /** Host header; the mesh routes on it. */
  readonly hostHeader?: string;
  readonly rate: number;
  readonly durationMs: number;
  readonly warmupMs?: number;
  readonly connections?: number;
  /** Give up on stragglers this long after the last release. */
  readonly drainMs?: number;
}

export interface OpenLoopResult extends LatencySummary {
  readonly rate: number;
  readonly sent: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Requests still unanswered at the end of the drain window. */
  readonly unanswered: number;
  readonly sendLagP99Us: number;
}

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const connections = o.connections ?? 16;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, scheduling: 'fifo' });
  const headers: http.OutgoingHttpHeaders = { host: o.hostHeader ?? '127.0.0.1' };
  if (o.body) { headers['content-length'] = o.body.length; headers['content-type'] = 'application/octet-stream'; }
  const warmupMs = o.warmupMs ?? 0;
  const total = Math.ceil((o.rate * (warmupMs + o.durationMs)) / 1000);
  const measuredFrom = Math.floor((o.rate * warmupMs) / 1000);
  const lat = new Float64Array(total);
  const lag = new Float64Array(total);
  let recorded = 0;
  let lagCount = 0;
  let sent = 0;
  let done = 0;
  let errors = 0;
  let non2xx = 0;
  const reqOpts: http.RequestOptions = { agent, host: '127.0.0.1', port: o.port, path: o.path, method: o.method ?? 'GET', headers };
  const intervalNs = 1e9 / o.rate;

  const issue = (index: number, releasedAt: bigint): void => {
    const req = http.request(reqOpts, (res) => {
      if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) non2xx++;
      res.on('data', noop);
      res.on('end', () => {
        done++;
        if (index >= measuredFrom) lat[recorded++] = Number(process.hrtime.bigint() - releasedAt) / 1000;
      });
    });
    req.on('error', () => { errors++; done++; });
    req.end(o.body);
  };

  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = process.hrtime.bigint();
      const due = Math.min(total, Math.floor(Number(now - start) / intervalNs) + 1);
      while (sent < due) {
        if (sent >= measuredFrom) lag[lagCount++] = (Number(now - start) - sent * intervalNs) / 1000;
        issue(sent, now);
        sent++;
      }
      if (sent >= total) { resolve(); return; }
      // Sleep until the next release is due; Node rounds this up to ≥1 ms.
      const nextNs = sent * intervalNs - Number(process.hrtime.bigint() - start);
      setTimeout(tick, Math.max(0, Math.floor(nextNs / 1e6)));
    };
    tick();
  });
  const drainDeadline = Date.now() + (o.drainMs ?? 5000);
  while (done < sent && Date.now() < drainDeadline) await sleep(5);
  agent.destroy();
  const summary = summarize(lat, recorded);
  const lagSummary = summarize(lag, lagCount);
  return { ...summary, rate: o.rate, sent, errors, non2xx, unanswered: sent - done, sendLagP99Us: lagSummary.p99Us };
}

function noop(): void { /* discard body */ }
function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
