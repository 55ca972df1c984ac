import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Drain } from './drain.js';

// A real server whose handler parks each response until the test answers it,
// so the in-flight bookkeeping is driven by real 'close' events.
async function parkingServer(drain: Drain): Promise<{ port: number; parked: http.ServerResponse[]; server: http.Server }> {
  const parked: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => {
    drain.onRequest(res);
    parked.push(res);
  });
  drain.addServer(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, parked, server };
}

function get(port: number, agent: http.Agent): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    }).on('error', reject);
  });
}

const waitFor = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('Drain in-flight tracking', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('counts responses released in any order, marks only unstarted ones Connection: close, and reports idle at the last', async () => {
    const drain = new Drain();
    const s = await parkingServer(drain);
    server = s.server;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    const replies = Array.from({ length: 12 }, () => get(s.port, agent));
    await waitFor(() => s.parked.length === 12);
    expect(drain.busy).toBe(12);

    // Finish from the middle, the newest and the oldest, then neighbours of
    // earlier gaps: every unlink case of the list, and stale links would show
    // as responses the drain never reaches.
    for (const i of [5, 11, 0, 6, 4, 10]) s.parked[i]!.end('early');
    await waitFor(() => drain.busy === 6);

    // Two responses have started (headers out) when the drain begins; four have not.
    s.parked[3]!.writeHead(200);
    s.parked[3]!.write('started');
    s.parked[9]!.writeHead(200);
    s.parked[9]!.write('started');
    let outcome: string | undefined;
    void drain.drain(10_000).then((o) => { outcome = o; });

    for (const i of [1, 2, 3, 7, 8, 9]) s.parked[i]!.end();
    const got = await Promise.all(replies);
    await waitFor(() => outcome !== undefined);
    expect(outcome).toBe('idle');
    expect(drain.busy).toBe(0);
    expect(got.map((g) => g.status)).toEqual(Array(12).fill(200));
    // Unstarted at drain time: Connection: close. Already started or finished before: keep-alive.
    const closed = got.map((g, i) => (g.connection === 'close' ? i : -1)).filter((i) => i >= 0);
    expect(closed).toEqual([1, 2, 7, 8]);
    agent.destroy();
  });

  it('a response closed twice (client abort, then end) is released once', async () => {
    const drain = new Drain();
    const s = await parkingServer(drain);
    server = s.server;
    const agent = new http.Agent({ keepAlive: true });
    const reqs = [get(s.port, agent), get(s.port, agent)];
    await waitFor(() => s.parked.length === 2);
    drain.release(s.parked[0]!);
    drain.release(s.parked[0]!);
    expect(drain.busy).toBe(1);
    s.parked[0]!.end();
    s.parked[1]!.end();
    await Promise.all(reqs);
    await waitFor(() => drain.busy === 0);
    expect(drain.busy).toBe(0);
    agent.destroy();
  });
});
