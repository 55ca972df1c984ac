// A real @grpc/grpc-js server and client for the Echo test service
// (test/fixtures/echo.proto, loaded at runtime with @grpc/proto-loader).
// Each server answers with its name and the metadata it saw, and can be
// scripted to fail calls with a gRPC status, in headers (trailers-only) or
// after sending response headers (status in real trailers).
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { ROOT } from './meshlet-process.js';

const def = loadSync(join(ROOT, 'test/fixtures/echo.proto'), { keepCase: true, longs: String, defaults: true });
const pkg = grpc.loadPackageDefinition(def) as unknown as { meshlet: { test: { Echo: grpc.ServiceClientConstructor } } };
export const EchoClient = pkg.meshlet.test.Echo;

export interface EchoRequest {
  text: string;
  count: number;
}
export interface EchoReply {
  text: string;
  server: string;
  metadata: Record<string, string>;
}

export interface CallRecord {
  method: string;
  metadata: Record<string, string>;
}

/** What to do with call number n (1-based, per server): undefined = answer normally. */
export type Failure = { code: grpc.status; inTrailers: boolean; message?: string } | undefined;

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  readonly calls: CallRecord[];
  /** Streams cancelled by the caller (RST_STREAM reached the server). */
  cancelled: number;
  fail: (n: number, method: string) => Failure;
  /** Delay before a unary answer, ms. */
  delayMs: number;
  close(): Promise<void>;
  /** Stops at once, cutting calls in flight (a crashed server). */
  kill(): void;
}

function metaOf(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) out[k] = String(v);
  return out;
}

/** `bind`: where to listen (a pod app binds 0.0.0.0:<port>); `extend` adds services (e.g. grpc.health.v1) before binding. */
export async function startEchoServer(name: string, bind = '127.0.0.1:0', extend?: (server: grpc.Server) => void): Promise<EchoServer> {
  const server = new grpc.Server();
  const s: EchoServer = {
    name,
    port: 0,
    calls: [],
    cancelled: 0,
    fail: () => undefined,
    delayMs: 0,
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())).then(() => server.forceShutdown()),
    kill: () => server.forceShutdown(),
  };
  const record = (method: string, md: grpc.Metadata): Failure => {
    s.calls.push({ method, metadata: metaOf(md) });
    return s.fail(s.calls.length, method);
  };
  const failWith = (call: { sendMetadata(m: grpc.Metadata): void }, f: NonNullable<Failure>): grpc.ServiceError => {
    // Sending headers first forces the status into real trailers (not a trailers-only response).
    if (f.inTrailers) call.sendMetadata(new grpc.Metadata());
    return Object.assign(new Error(f.message ?? 'scripted failure'), { code: f.code, details: f.message ?? 'scripted failure', metadata: new grpc.Metadata() });
  };
  const unary = (method: string): grpc.handleUnaryCall<EchoRequest, EchoReply> => (call, cb) => {
    const f = record(method, call.metadata);
    const answer = (): void => {
      if (f !== undefined) return cb(failWith(call, f));
      cb(null, { text: call.request.text, server: name, metadata: metaOf(call.metadata) });
    };
    if (s.delayMs > 0) setTimeout(answer, s.delayMs);
    else answer();
  };
  server.addService(EchoClient.service, {
    Unary: unary('Unary'),
    Other: unary('Other'),
    ServerStream: (call: grpc.ServerWritableStream<EchoRequest, EchoReply>) => {
      const f = record('ServerStream', call.metadata);
      if (f !== undefined) return call.emit('error', failWith(call, f));
      call.on('cancelled', () => s.cancelled++);
      let i = 0;
      // Backpressure: write only while the transport accepts, resume on drain.
      const pump = (): void => {
        while (i < call.request.count) {
          const ok = call.write({ text: `${call.request.text}-${i++}`, server: name, metadata: {} });
          if (!ok) return void call.once('drain', pump);
        }
        call.end();
      };
      // Never ends: a long-lived stream. One message first, so the caller learns which server holds it.
      if (call.request.count < 0) return void call.write({ text: `${call.request.text}-open`, server: name, metadata: {} });
      pump();
    },
    ClientStream: (call: grpc.ServerReadableStream<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) => {
      record('ClientStream', call.metadata);
      const parts: string[] = [];
      call.on('data', (m: EchoRequest) => parts.push(m.text));
      call.on('end', () => cb(null, { text: parts.join(','), server: name, metadata: {} }));
    },
    Bidi: (call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) => {
      record('Bidi', call.metadata);
      call.on('data', (m: EchoRequest) => call.write({ text: m.text.toUpperCase(), server: name, metadata: {} }));
      call.on('end', () => call.end());
      call.on('cancelled', () => s.cancelled++);
    },
  });
  extend?.(server);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync(bind, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  (s as { port: number }).port = port;
  return s;
}

/** A client channel to `target` (a sidecar's port) calling `authority` (the service host). */
export function echoClient(port: number, authority: string): grpc.Client & Record<string, (...a: unknown[]) => unknown> {
  return new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': authority,
    // One connection for the whole test: balancing must come from the sidecar, not the channel.
    'grpc.use_local_subchannel_pool': 1,
  }) as unknown as grpc.Client & Record<string, (...a: unknown[]) => unknown>;
}

export function unary(c: grpc.Client, method: 'Unary' | 'Other', req: Partial<EchoRequest>, md = new grpc.Metadata(), opts: grpc.CallOptions = {}): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    (c as unknown as Record<string, (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: EchoReply) => void) => void>)[method]!(
      { text: 'hi', count: 0, ...req },
      md,
      opts,
      (e, v) => (e ? reject(e) : resolve(v)),
    );
  });
}

export { grpc };
