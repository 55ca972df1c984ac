// `observe: { prometheus: URL }`: an experiment measured through a real
// Prometheus (Debian's binary) scraping a real standalone sidecar, while the
// test itself sends the "real traffic" (no built-in load). The runner writes
// a client-side abort of half the calls into the sidecar's config directory;
// the verdict and the per-phase figures come only from PromQL over the HTTP
// API. Skips loudly without the `prometheus` binary (.ci/run installs it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../cli/experiment/report-model.js';
import { send } from '../support/http-client.js';
import { BIN, startMeshlet, until, type MeshletProc } from '../support/meshlet-process.js';
import { closedPort } from '../support/scope.js';
import { startUpstream, type Upstream } from '../support/upstream.js';

const havePrometheus = spawnSync('prometheus', ['--version']).status === 0;
if (!havePrometheus) console.error('\n!!! SKIPPED test/integration/experiment-prometheus.test.ts: no `prometheus` binary (apt-get install prometheus) !!!\n');

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const kill = setTimeout(() => p.kill('SIGKILL'), 90_000);
    p.on('exit', (status) => {
      clearTimeout(kill);
      resolve({ status, stdout, stderr });
    });
  });
}

describe.skipIf(!havePrometheus)('meshlet experiment: observe through a Prometheus URL', () => {
  const work = mkdtempSync(join(tmpdir(), 'meshlet-exp-prom-'));
  const config = join(work, 'config');
  let up: Upstream;
  let sidecar: MeshletProc;
  let prom: ChildProcess;
  let promUrl = '';

  beforeAll(async () => {
    up = await startUpstream('svc');
    mkdirSync(config);
    writeFileSync(
      join(config, 'svc.yaml'),
      `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc }
spec:
  hosts: [svc]
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${up.port} } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc }
spec:
  hosts: [svc]
  http: [{ route: [{ destination: { host: svc } }], retries: { attempts: 0 } }]
`,
    );
    sidecar = await startMeshlet(['--config', config, '--workload', 'caller', '--access-log', 'off']);
    const port = await closedPort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(work, 'prometheus.yml'),
      `global: { scrape_interval: 1s, scrape_timeout: 900ms }
scrape_configs:
  - job_name: sidecar
    metrics_path: /stats/prometheus
    static_configs: [{ targets: ['127.0.0.1:${sidecar.metrics}'] }]
`,
    );
    prom = spawn('prometheus', [`--config.file=${join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${join(work, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
    // Up, and already holding a sample of the sidecar's istio_requests_total.
    await send(sidecar.outbound, { host: 'svc' });
    await until(async () => {
      try {
        const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('sum(istio_requests_total)')}`);
        const j = (await r.json()) as { data?: { result?: unknown[] } };
        return (j.data?.result?.length ?? 0) > 0;
      } catch {
        return false;
      }
    }, 30_000, 250);
  }, 60_000);

  afterAll(async () => {
    prom?.kill('SIGTERM');
    await sidecar?.stop();
    await up?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('measures real traffic from PromQL alone: baseline clean, the abort shows in inject (exit 1), gone in recover', async () => {
    const file = join(work, 'abort.yaml');
    writeFileSync(
      file,
      `apiVersion: meshlet.io/v1alpha1
kind: Experiment
metadata: { name: prom-abort }
spec:
  target: { host: svc }
  fault: { abort: { httpStatus: 503, percentage: 50 } }
  observe: { prometheus: ${promUrl}, service: svc }
  phases: { baseline: 4s, inject: 8s, recover: 6s }
  hypothesis: { successRate: { min: 0.9 } }
`,
    );
    // The "real traffic": the test's own client, about 20 requests a second, until the runner exits.
    let running = true;
    let sent = 0;
    const traffic = (async () => {
      while (running) {
        await send(sidecar.outbound, { host: 'svc' });
        sent++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const dir = join(work, 'report');
    // Not spawnSync: the traffic above must keep flowing while the runner works.
    const runner = await cli([BIN, 'experiment', 'run', file, '--config-dir', config, '--no-tty', '--report', dir, '--ttl-margin', '5s']);
    running = false;
    await traffic;
    expect(runner.status, runner.stdout + runner.stderr).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    const by = Object.fromEntries(report.phases.map((p) => [p.name, p]));
    expect(by['baseline']!.successRate).toBeGreaterThanOrEqual(0.95);
    // Prometheus sees the fault only as fast as it scrapes (1 s): the edges smear a little.
    expect(by['inject']!.successRate).toBeGreaterThan(0.25);
    expect(by['inject']!.successRate).toBeLessThan(0.75);
    expect(by['inject']!.held).toBe(false);
    expect(by['recover']!.successRate).toBeGreaterThan(0.8);
    expect(by['inject']!.p99).not.toBeNull();
    // What PromQL counted over the run is about what the test sent while it ran (the runner started after some were sent).
    const counted = report.phases.reduce((a, p) => a + p.requests, 0);
    expect(counted).toBeGreaterThan(sent * 0.5);
    expect(counted).toBeLessThanOrEqual(sent);
    expect(report.events.map((e) => e.kind)).toEqual(['fault-applied', 'fault-reverted']);
  }, 120_000);

  it('could not run (exit 2) when the Prometheus URL does not answer', async () => {
    const file = join(work, 'nowhere.yaml');
    const dead = await closedPort();
    writeFileSync(
      file,
      `apiVersion: meshlet.io/v1alpha1
kind: Experiment
metadata: { name: prom-nowhere }
spec:
  target: { host: svc }
  fault: { abort: { httpStatus: 503, percentage: 50 } }
  observe: { prometheus: http://127.0.0.1:${dead} }
  phases: { baseline: 1s, inject: 1s, recover: 1s }
  hypothesis: { successRate: { min: 0.9 } }
`,
    );
    const r = spawnSync(process.execPath, [BIN, 'experiment', 'run', file, '--config-dir', config, '--no-tty'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/fetch failed|ECONNREFUSED|prometheus/i);
  }, 60_000);
});
