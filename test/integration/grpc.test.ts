// HTTP/2 and gRPC through real meshlet processes with real @grpc/grpc-js
// clients and servers (test/fixtures/echo.proto): every call shape, routing
// by method, splits, per-call balancing, gRPC-aware retries, deadlines,
// faults, header operations and mirroring, through one sidecar (outbound) and
// two (outbound → inbound).
import { afterEach, describe, expect, it } from 'vitest';
import { echoClient, grpc, startEchoServer, unary, type EchoReply, type EchoServer } from '../support/grpc-echo.js';
import { testScope } from '../support/scope.js';

const scope = testScope();
const servers: EchoServer[] = [];
const clients: grpc.Client[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function echo(name: string): Promise<EchoServer> {
  const s = await startEchoServer(name);
  servers.push(s);
  return s;
}
function client(port: number, authority = 'echo:9090'): grpc.Client {
  const c = echoClient(port, authority);
  clients.push(c);
  return c;
}

/** A GRPC ServiceEntry `host`:9090 whose endpoints are the given servers (labels version=<server name>). */
function grpcService(host: string, eps: EchoServer[]): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  resolution: STATIC
  ports: [{ number: 9090, name: grpc, protocol: GRPC }]
  endpoints:
${eps.map((e) => `    - { address: 127.0.0.1, ports: { grpc: ${e.port} }, labels: { app: ${host}, version: ${e.name} } }`).join('\n')}
---
`;
}
const RR = (host: string, extra = ''): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
${extra}---
`;

function countBy(replies: EchoReply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) out[r.server] = (out[r.server] ?? 0) + 1;
  return out;
}

describe('gRPC through the outbound sidecar', () => {
  it('unary call over h2c prior knowledge, per-call round robin 100/100/100 from one channel', async () => {
    const [a, b, c] = await Promise.all([echo('a'), echo('b'), echo('c')]);
    const m = await scope.meshlet(grpcService('echo', [a, b, c]) + RR('echo'));
    const cl = client(m.outbound);
    const replies: EchoReply[] = [];
    for (let i = 0; i < 300; i++) replies.push(await unary(cl, 'Unary', { text: `m${i}` }));
    expect(replies[7]!.text).toBe('m7');
    expect(countBy(replies)).toEqual({ a: 100, b: 100, c: 100 });
  });
});
