// Minimal typing for the autocannon 8 programmatic API surface the bench uses
// (the package ships no types and @types/autocannon is not installed).
declare module 'autocannon' {
  interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
    method?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    pipelining?: number;
    timeout?: number;
  }
  interface Histo { average: number; mean: number; p50: number; p90: number; p99: number; p99_9?: number; max: number; total?: number }
  interface AutocannonResult {
    requests: Histo;
    latency: Histo;
    throughput: Histo;
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
    start: Date;
    finish: Date;
    '2xx': number;
  }
  function autocannon(opts: AutocannonOptions): Promise<AutocannonResult> & { stop(): void };
  export default autocannon;
}
