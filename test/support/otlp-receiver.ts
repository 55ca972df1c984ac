// A real OTLP/HTTP trace receiver for tests: POST /v1/traces with
// application/x-protobuf (optionally gzip), decoded with protobufjs from a
// minimal inline copy of the OTLP trace schema (only the fields tests read;
// protobufjs skips the rest). Listens on 127.0.0.1:0.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { Scope scope = 1; repeated Span spans = 2; }
message Scope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; }
}
`;

const root = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root;
const Request = root.lookupType('otlp.ExportTraceServiceRequest');

export type AttrValue = string | number | boolean;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 INTERNAL, 2 SERVER, 3 CLIENT. */
  kind: number;
  attributes: Record<string, AttrValue>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** service.name of the resource that sent the span. */
  serviceName: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}

interface DecodedKv {
  key?: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number };
}

function attrs(list: DecodedKv[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) {
    const v = kv.value;
    if (kv.key === undefined || v === undefined) continue;
    if (v.stringValue !== undefined) out[kv.key] = v.stringValue;
    else if (v.boolValue !== undefined) out[kv.key] = v.boolValue;
    else if (v.intValue !== undefined) out[kv.key] = Number(v.intValue);
    else if (v.doubleValue !== undefined) out[kv.key] = v.doubleValue;
  }
  return out;
}

const hex = (b: string | undefined): string => (b === undefined ? '' : Buffer.from(b, 'base64').toString('hex'));

/** Decodes one ExportTraceServiceRequest body into flat spans. */
export function decodeTraces(body: Uint8Array): ReceivedSpan[] {
  const msg = Request.decode(body);
  // toObject with bytes as base64 and longs as strings keeps the shape plain.
  const obj = Request.toObject(msg, { longs: String, bytes: String, defaults: false }) as {
    resourceSpans?: Array<{
      resource?: { attributes?: DecodedKv[] };
      scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
    }>;
  };
  const out: ReceivedSpan[] = [];
  for (const rs of obj.resourceSpans ?? []) {
    const serviceName = String(attrs(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const status = s['status'] as { code?: number } | undefined;
        out.push({
          traceId: hex(s['traceId'] as string | undefined),
          spanId: hex(s['spanId'] as string | undefined),
          parentSpanId: hex(s['parentSpanId'] as string | undefined),
          name: (s['name'] as string | undefined) ?? '',
          kind: (s['kind'] as number | undefined) ?? 0,
          attributes: attrs(s['attributes'] as DecodedKv[] | undefined),
          statusCode: status?.code ?? 0,
          serviceName,
          startTimeUnixNano: String(s['startTimeUnixNano'] ?? '0'),
          endTimeUnixNano: String(s['endTimeUnixNano'] ?? '0'),
        });
      }
    }
  }
  return out;
}

export interface OtlpReceiver {
  /** Base URL, e.g. http://127.0.0.1:34567 (the exporter appends /v1/traces). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Number of export requests received. */
  readonly requests: number;
  /** Resolves once at least `n` spans arrived; rejects after `timeoutMs`. */
  waitForSpans(n: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

/**
 * A real OTLP/HTTP trace receiver: POST /v1/traces (protobuf, optionally gzip)
 * stores decoded spans; GET /spans returns them as JSON (for receivers running
 * in another process, as in the pod rig).
 */
export async function startOtlpReceiver(listen: { host?: string; port?: number } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/spans') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(spans));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (!String(req.headers['content-type']).startsWith('application/x-protobuf')) throw new Error('not protobuf');
        spans.push(...decodeTraces(body));
        requests++;
      } catch (e) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(e));
        return;
      }
      // An empty ExportTraceServiceResponse is a zero-length protobuf message.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    spans,
    get requests() {
      return requests;
    },
    async waitForSpans(n: number, timeoutMs = 5000): Promise<ReceivedSpan[]> {
      const deadline = Date.now() + timeoutMs;
      while (spans.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${n} spans (got ${spans.length})`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
