// Tracing: B3 propagation always, OTel span export only when configured.
//
// Span model (Envoy's Zipkin driver with shared span context):
//  - no incoming ids: a root. One random 64-bit id is both trace id and span
//    id, no parent, and that is what the upstream receives.
//  - incoming ids: the proxy's server-side context (ex.trace) keeps the
//    incoming span id and parent; the upstream request gets a NEW span id whose
//    parent is the incoming span id.
// One span is exported per exchange: the one whose ids went upstream (kind
// CLIENT outbound, SERVER inbound), so exported ids equal the wire ids.
//
// Sampling: debug forces; an incoming decision is honoured; otherwise we
// decide once with `sampleRate` at the edge and propagate it; an incoming "defer" stays defer on the wire. Unsampled requests
// never touch OTel. The SDK is loaded with dynamic import() only when export
// is configured: a sidecar without tracing pays no start-up time or memory.
import type { Context, Span, SpanKind, Tracer } from '@opentelemetry/api';
import type { BasicTracerProvider, IdGenerator } from '@opentelemetry/sdk-trace-base';
import { flagsToString, Flag } from '../errors/index.js';
import type { Exchange, ExchangeObserver, TraceContext } from '../exchange/index.js';
import { extractB3, extractW3C, injectB3, type HeaderBag, type InjectMode } from './b3.js';
import { newSpanId, padTraceId } from './ids.js';

export interface TracingOptions {
  /** Fraction 0..1 of edge (undecided) requests to sample. Default 0.01. */
  sampleRate?: number;
  /** Formats written upstream. Default multi-header only (Envoy/Zipkin). */
  inject?: InjectMode;
  serviceName: string;
  /** OTLP/HTTP endpoint: a base URL (`/v1/traces` is appended) or a full `.../v1/traces` URL. Overrides OTEL_* env. */
  exportEndpoint?: string;
  /** Source of randomness for the sampling decision (tests seed it). */
  random?: () => number;
  /** Env to read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT from; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Lets the exported span carry the ids we already put on the wire. */
class WireIdGenerator implements IdGenerator {
  traceId = '';
  spanId = '';
  generateTraceId(): string {
    return this.traceId;
  }
  generateSpanId(): string {
    return this.spanId;
  }
}

interface Sdk {
  readonly provider: BasicTracerProvider;
  readonly tracer: Tracer;
  readonly ids: WireIdGenerator;
  readonly root: Context;
  readonly setSpanContext: (ctx: Context, sc: { traceId: string; spanId: string; traceFlags: number; isRemote: boolean }) => Context;
  readonly kindClient: SpanKind;
  readonly kindServer: SpanKind;
  readonly statusError: number;
}

/** Flags that mean the proxy itself failed the request (a delay injection is not a failure). */
const FAILURE_FLAGS = ~Flag.DI;
const DEFAULT_INJECT: InjectMode = Object.freeze({ multi: true, single: false, w3c: false });

export function resolveExportEndpoint(opts: TracingOptions): { url: string | undefined; enabled: boolean } {
  if (opts.exportEndpoint !== undefined && opts.exportEndpoint !== '') {
    const e = opts.exportEndpoint;
    return { url: e.endsWith('/v1/traces') ? e : e.replace(/\/$/, '') + '/v1/traces', enabled: true };
  }
  const env = opts.env ?? process.env;
  // Let the exporter read the env itself so OTEL_* semantics stay the SDK's.
  const enabled = !!env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || !!env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return { url: undefined, enabled };
}

async function loadSdk(serviceName: string, url: string | undefined): Promise<Sdk> {
  const [api, base, exporterMod, res] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
  ]);
  const ids = new WireIdGenerator();
  // OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (envDetector) win over our default name, as the spec asks.
  const resource = res
    .defaultResource()
    .merge(res.resourceFromAttributes({ 'service.name': serviceName }))
    .merge(res.detectResources({ detectors: [res.envDetector] }));
  const exporter = new exporterMod.OTLPTraceExporter(url === undefined ? {} : { url });
  const provider = new base.BasicTracerProvider({
    resource,
    idGenerator: ids,
    // Sampling is decided before a span exists; every span we create is wanted.
    sampler: new base.AlwaysOnSampler(),
    // BatchSpanProcessor reads OTEL_BSP_* itself when given no overrides.
    spanProcessors: [new base.BatchSpanProcessor(exporter)],
  });
  return {
    provider,
    tracer: provider.getTracer('meshlet'),
    ids,
    root: api.ROOT_CONTEXT,
    setSpanContext: (ctx, sc) => api.trace.setSpanContext(ctx, sc),
    kindClient: api.SpanKind.CLIENT,
    kindServer: api.SpanKind.SERVER,
    statusError: api.SpanStatusCode.ERROR,
  };
}

export class Tracing implements ExchangeObserver {
  private readonly rate: number;
  private readonly inject: InjectMode;
  private readonly random: () => number;
  private readonly sdk: Sdk | undefined;

  private constructor(opts: TracingOptions, sdk: Sdk | undefined) {
    this.rate = opts.sampleRate ?? 0.01;
    this.inject = opts.inject ?? DEFAULT_INJECT;
    this.random = opts.random ?? Math.random;
    this.sdk = sdk;
  }

  static async create(opts: TracingOptions): Promise<Tracing> {
    const ep = resolveExportEndpoint(opts);
    const sdk = ep.enabled ? await loadSdk(opts.serviceName, ep.url) : undefined;
    return new Tracing(opts, sdk);
  }

  /** True when spans are exported (the SDK is loaded). */
  get exporting(): boolean {
    return this.sdk !== undefined;
  }

  onStart(ex: Exchange, upstreamHeaders: HeaderBag): void {
    let incoming = ex.trace ?? extractB3(ex.req.headers);
    if (incoming === undefined && this.inject.w3c) incoming = extractW3C(ex.req.headers);
    const sampled =
      incoming === undefined || incoming.sampled === undefined ? this.random() < this.rate : incoming.sampled;
    const debug = incoming !== undefined && incoming.debug;
    let up: TraceContext;
    if (incoming === undefined || incoming.traceId === '') {
      const id = newSpanId();
      up = { traceId: id, spanId: id, parentSpanId: undefined, sampled, debug };
      ex.trace = up;
    } else {
      ex.trace = incoming;
      // "Defer" stays defer on the wire (faithful pass-through): our local decision
      // only says whether this sidecar exports a span; the next hop decides for itself.
      up = { traceId: incoming.traceId, spanId: newSpanId(), parentSpanId: incoming.spanId, sampled: incoming.sampled, debug };
    }
    injectB3(up, upstreamHeaders, this.inject);
    if (sampled && this.sdk !== undefined) ex.span = this.startSpan(this.sdk, ex, up);
  }

  onComplete(ex: Exchange): void {
    const span = ex.span as Span | undefined;
    if (span === undefined || this.sdk === undefined) return;
    ex.span = undefined;
    span.setAttribute('http.response.status_code', ex.status);
    if (ex.endpoint !== undefined) span.setAttribute('server.address', ex.endpoint.authority);
    span.setAttribute('meshlet.retry_count', ex.attempts > 1 ? ex.attempts - 1 : 0);
    span.setAttribute('meshlet.response_flags', flagsToString(ex.flags));
    if (ex.status >= 500 || ex.status === 0 || (ex.flags & FAILURE_FLAGS) !== 0) {
      span.setStatus({ code: this.sdk.statusError, message: ex.detail });
    }
    span.end(ex.startMs + ex.durationMs);
  }

  private startSpan(sdk: Sdk, ex: Exchange, up: TraceContext): Span {
    const traceId = padTraceId(up.traceId);
    sdk.ids.traceId = traceId;
    sdk.ids.spanId = up.spanId;
    const parent =
      up.parentSpanId === undefined
        ? sdk.root
        : sdk.setSpanContext(sdk.root, { traceId, spanId: up.parentSpanId, traceFlags: 1, isRemote: true });
    const dest = ex.destination;
    const span = sdk.tracer.startSpan(
      (dest !== undefined ? dest.service : ex.authority) + '/*',
      {
        kind: ex.direction === 'outbound' ? sdk.kindClient : sdk.kindServer,
        // performance.now() values are accepted by the SDK as relative to timeOrigin.
        startTime: ex.startMs,
        attributes: {
          'http.request.method': ex.method,
          'url.path': ex.path,
          'meshlet.route': ex.routeName,
          'meshlet.destination': dest !== undefined ? dest.cluster : '',
          'guid:x-request-id': ex.requestId,
        },
      },
      parent,
    );
    return span;
  }

  /** Exports what is buffered without stopping. */
  async flush(): Promise<void> {
    if (this.sdk !== undefined) await this.sdk.provider.forceFlush();
  }

  /** Flushes and stops the exporter. */
  async shutdown(): Promise<void> {
    if (this.sdk !== undefined) await this.sdk.provider.shutdown();
  }
}
