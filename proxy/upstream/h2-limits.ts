// HTTP/2 flow-control and concurrency limits shared by both listeners and the
// upstream connections. Set once at startup from flags (proxy/run.ts); read
// when a connection is created, never per request.

export interface H2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS we advertise to downstream clients (Envoy: 2147483647; we bound it). */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE, per stream, both directions we receive on (Envoy's default is 256 MiB; 1 MiB bounds what a slow reader can make us buffer per stream). */
  initialWindowSize: number;
  /** Per-connection receive window (WINDOW_UPDATE on stream 0). */
  connectionWindowSize: number;
}

export const DEFAULT_H2_LIMITS: Readonly<H2Limits> = Object.freeze({
  maxConcurrentStreams: 1000,
  initialWindowSize: 1 << 20,
  connectionWindowSize: 4 << 20,
});

export const h2Limits: H2Limits = { ...DEFAULT_H2_LIMITS };

export function setH2Limits(l: Partial<H2Limits>): void {
  Object.assign(h2Limits, l);
}
