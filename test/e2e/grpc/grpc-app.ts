// The gRPC workload of the pod-rig e2e, run inside rig pods with
// `node --import tsx test/e2e/grpc/grpc-app.ts <mode> …`. It knows nothing of
// the mesh: servers listen on 0.0.0.0:9090, clients dial the service name.
//   server <name>                 Echo + grpc.health.v1 on 9090
//   calls <target> <n>            n unary calls on one channel → JSON {server: count}
//   health <target> <service>…    one Check per service → JSON [status | "error CODE"]
//   kill-stream <target> <n>      hold a server stream (prints STREAM_OPEN <server>), wait for
//                                 it to break (STREAM_ENDED <code>), then n unary calls and one
//                                 finite stream on the same channel → AFTER <json>
import { EchoClient, grpc, startEchoServer, unary, type EchoReply } from '../../support/grpc-echo.js';
import { addHealthService, healthCheck, HealthClient } from '../../support/grpc-health.js';

const [mode, ...args] = process.argv.slice(2);
const CALL_DEADLINE_MS = 10_000;

function channel(ctor: grpc.ServiceClientConstructor, target: string): grpc.Client {
  // One connection (to this pod's sidecar, via interception): balancing must come from the mesh.
  return new ctor(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

async function calls(c: grpc.Client, n: number): Promise<{ servers: Record<string, number>; errors: Record<string, number> }> {
  const servers: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    try {
      const r = await unary(c, 'Unary', { text: `m${i}` }, new grpc.Metadata(), { deadline: Date.now() + CALL_DEADLINE_MS });
      servers[r.server] = (servers[r.server] ?? 0) + 1;
    } catch (e) {
      const name = grpc.status[(e as grpc.ServiceError).code] ?? 'UNKNOWN';
      errors[name] = (errors[name] ?? 0) + 1;
    }
  }
  return { servers, errors };
}

function serverStream(c: grpc.Client, count: number, onData: (r: EchoReply) => void): Promise<string> {
  return new Promise((resolve) => {
    const call = (c as unknown as { ServerStream: (r: unknown) => grpc.ClientReadableStream<EchoReply> }).ServerStream({ text: 's', count });
    call.on('data', onData);
    call.on('error', (e: grpc.ServiceError) => resolve(`${grpc.status[e.code]} ${e.details}`));
    call.on('end', () => resolve('OK'));
  });
}

async function main(): Promise<void> {
  if (mode === 'server') {
    const name = args[0]!;
    await startEchoServer(name, '0.0.0.0:9090', (s) => addHealthService(s, new Map([['', 'SERVING'], ['meshlet.test.Echo', 'SERVING']])));
    console.log(`grpc app ${name} listening on 9090`);
    return;
  }
  const target = args[0]!;
  if (mode === 'calls') {
    const c = channel(EchoClient, target);
    console.log(JSON.stringify(await calls(c, Number(args[1]))));
    c.close();
  } else if (mode === 'health') {
    const c = channel(HealthClient, target);
    const out: string[] = [];
    for (const svc of args.slice(1)) out.push(await healthCheck(c, svc === '-' ? '' : svc));
    console.log(JSON.stringify(out));
    c.close();
  } else if (mode === 'kill-stream') {
    const c = channel(EchoClient, target);
    let first = true;
    const ended = await serverStream(c, -1, (r) => {
      if (first) console.log(`STREAM_OPEN ${r.server}`);
      first = false;
    });
    console.log(`STREAM_ENDED ${ended}`);
    const after = await calls(c, Number(args[1]));
    const streamed: string[] = [];
    const stream = await serverStream(c, 5, (r) => streamed.push(r.server));
    console.log(`AFTER ${JSON.stringify({ ...after, stream, streamed })}`);
    c.close();
  } else {
    throw new Error(`unknown mode ${String(mode)}`);
  }
}

main().catch((err: Error) => {
  console.error(`grpc app failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
