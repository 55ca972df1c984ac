// Shared fixtures for the control-plane integration tests: Istio YAML written
// to a temp dir, a fake proxy (records what it applied), and a bounded waiter.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigIssue, MeshConfig } from '../../proxy/config/model/index.js';
import { ConfigStreamClient, type ConfigStreamClientOptions } from '../../proxy/xds/index.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import type { FakeKubeApiServer } from '../support/fake-kube-apiserver.js';

export const SERVICES = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: http, protocol: HTTP }]
  endpoints:
    - { address: 127.0.0.1, ports: { http: 19082 }, labels: { version: v1 } }
    - { address: 127.0.0.1, ports: { http: 19083 }, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: external }
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints:
    - { address: localhost }
`;

export function routes(timeout: string): string {
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - name: reviews-all
      timeout: ${timeout}
      route:
        - destination: { host: reviews }
`;
}

export const BAD_ROUTES = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - name: reviews-all
      route:
        - destination: { host: no-such-service }
`;

export async function configDir(timeout = '1s'): Promise<{ dir: string; write(name: string, text: string): Promise<void>; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshlet-cp-'));
  const write = (name: string, text: string): Promise<void> => writeFile(join(dir, name), text);
  await write('10-services.yaml', SERVICES);
  await write('30-routes.yaml', routes(timeout));
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A stand-in for the proxy's snapshot holder: records every apply. */
export class FakeProxy {
  applied: MeshConfig[] = [];
  states: string[] = [];
  rejects: ConfigIssue[][] = [];
  /** When set, apply refuses configs (as the proxy's compiler would). */
  refuse: ((c: MeshConfig) => ConfigIssue[]) | undefined;
  version: string | undefined;
  client: ConfigStreamClient;

  constructor(target: string, id: string, extra: Partial<ConfigStreamClientOptions> = {}, version?: string) {
    this.version = version;
    this.client = new ConfigStreamClient({
      target,
      node: { id, workload: id.split('.')[0] ?? id, namespace: 'default', labels: { app: id } },
      apply: (c) => {
        const issues = this.refuse?.(c) ?? [];
        if (issues.length > 0) return issues;
        this.applied.push(c);
        this.version = c.version;
        return [];
      },
      currentVersion: () => this.version,
      onState: (s) => this.states.push(s),
      onReject: (_v, issues) => this.rejects.push(issues.slice()),
      backoffBaseMs: 50,
      backoffMaxMs: 500,
      ...extra,
    });
    this.client.start();
  }

  last(): MeshConfig | undefined {
    return this.applied[this.applied.length - 1];
  }
}

/** Polls `cond` every 20 ms; fails after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A plaintext control plane on the Kubernetes source only, watching `api`
 * (the fake API server) with timings short enough for tests: fast backoff,
 * 1 s watches, a 3 s watchdog, no periodic resync. The caller closes it.
 */
export function kubeControlPlane(api: FakeKubeApiServer): Promise<RunningControlPlane> {
  return startControlPlane({
    security: { insecure: true },
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    metricsPort: -1,
    debounceMs: 20,
    log: () => {},
    kubernetes: { kubeconfig: api.writeKubeconfig(), debounceMs: 20, timing: { backoffInitialMs: 50, backoffMaxMs: 200, watchTimeoutS: 1, watchdogMs: 3000, resyncMs: 0 } },
  });
}
