// Issue 17: a sidecar fed by a control plane validates snapshots with the
// validator generated from the zod schema and never loads zod (~8.6 MiB of
// RSS); in --config mode it still does (that path translates Istio YAML with
// zod), which shows the module log below sees zod when it is loaded. Real
// processes: the built CLI with a resolve hook that logs every module URL.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startControlPlane } from '../../control-plane/index.js';
import { send } from '../support/http-client.js';
import { startMeshlet, until } from '../support/meshlet-process.js';
import { configDir } from './control-plane-fixtures.js';

const HOOKS = fileURLToPath(new URL('../support/module-log-hooks.mjs', import.meta.url));
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function moduleLog(): { env: NodeJS.ProcessEnv; loaded: () => string[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'meshlet-modules-')), 'modules.txt');
  return { env: { NODE_OPTIONS: `--import=${HOOKS}`, MESHLET_TEST_MODULE_LOG: file }, loaded: () => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') };
}

const isZod = (url: string): boolean => url.includes('/node_modules/zod/');

describe('control-plane-fed sidecar and zod', () => {
  it('applies a snapshot from the control plane without loading zod; --config mode loads it', async () => {
    const files = await configDir();
    cleanups.push(files.remove);
    const cp = await startControlPlane({ configDir: files.dir, grpcHost: '127.0.0.1', grpcPort: 0, security: { insecure: true }, metricsPort: 0, rescanMs: 200, log: () => {} });
    cleanups.push(() => cp.close());

    const fed = moduleLog();
    const m = await startMeshlet(['--control-plane', `127.0.0.1:${cp.port}`, '--insecure', '--access-log', 'off'], fed.env);
    cleanups.push(() => m.stop());
    await until(async () => ((JSON.parse((await send(m.admin, { path: '/config_dump' })).body) as { version: string | null }).version !== null ? true : undefined), 10_000, 50);
    const loaded = fed.loaded();
    expect(loaded.some((u) => u.endsWith('/proxy/config/validate/generated/snapshot-shape.js')), 'the generated validator is loaded').toBe(true);
    expect(loaded.filter(isZod)).toEqual([]);

    const standalone = moduleLog();
    const s = await startMeshlet(['--config', files.dir, '--access-log', 'off'], standalone.env);
    cleanups.push(() => s.stop());
    expect(standalone.loaded().some(isZod), '--config mode loads zod, so the log would show it').toBe(true);
  }, 30_000);
});
