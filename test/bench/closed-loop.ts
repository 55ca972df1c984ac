// Maximum throughput, closed loop: autocannon with N connections each waiting
// for its response before sending the next request.
import autocannon from 'autocannon';

export interface ClosedLoopOptions {
  readonly port: number;
  readonly path: string;
  readonly method?: 'GET' | 'POST';
  readonly body?: Buffer;
  readonly hostHeader?: string;
  readonly connections?: number;
  readonly durationSec: number;
  /** Stop after this many requests instead (autocannon then ignores durationSec). */
  readonly amount?: number;
}

export interface ClosedLoopResult {
  readonly reqPerSec: number;
  readonly completed: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const headers: Record<string, string> = { host: o.hostHeader ?? '127.0.0.1' };
  if (o.body) headers['content-type'] = 'application/octet-stream';
  const r = await autocannon({
    url: `http://127.0.0.1:${o.port}${o.path}`,
    connections: o.connections ?? 50,
    duration: o.durationSec,
    ...(o.amount !== undefined ? { amount: o.amount } : {}),
    method: o.method ?? 'GET',
    headers,
    ...(o.body ? { body: o.body } : {}),
    timeout: 10,
  });
  const completed = r['2xx'] + r.non2xx;
  const secs = (r.finish.getTime() - r.start.getTime()) / 1000;
  return {
    reqPerSec: secs > 0 ? r['2xx'] / secs : 0,
    completed,
    errors: r.errors,
    non2xx: r.non2xx,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
  };
}
