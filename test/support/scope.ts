// Per-test resources that must not outlive the test: upstreams and meshlet
// processes started through a scope are stopped in afterEach, whatever happened.
import { createServer } from 'node:net';
import { afterEach } from 'vitest';
import { startMeshlet, tempConfig, type MeshletProc } from './meshlet-process.js';
import { startUpstream, type Behaviour, type Upstream } from './upstream.js';

export interface TestScope {
  upstream(name: string, b?: Behaviour): Promise<Upstream>;
  /** A meshlet proxy on one config file (access log off unless args say otherwise). */
  meshlet(yaml: string, args?: string[]): Promise<MeshletProc>;
  /** Run at teardown, before processes stop (e.g. release hanging upstream requests). */
  onTeardown(fn: () => void): void;
}

export function testScope(): TestScope {
  const procs: MeshletProc[] = [];
  const ups: Upstream[] = [];
  const hooks: (() => void)[] = [];
  afterEach(async () => {
    hooks.splice(0).forEach((h) => h());
    await Promise.all(procs.splice(0).map((p) => p.stop()));
    await Promise.all(ups.splice(0).map((u) => u.close()));
  });
  return {
    async upstream(name, b) {
      const u = await startUpstream(name, b);
      ups.push(u);
      return u;
    },
    async meshlet(yaml, args = []) {
      const m = await startMeshlet(['--config', tempConfig({ 'c.yaml': yaml }), '--access-log', 'off', ...args]);
      procs.push(m);
      return m;
    },
    onTeardown(fn) {
      hooks.push(fn);
    },
  };
}

/** A port that was free a moment ago and has nothing listening: connections are refused. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
