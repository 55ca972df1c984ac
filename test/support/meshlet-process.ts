// Runs a real `meshlet proxy` process (the built CLI) on free ports and reads
// the ports it reports; stop() kills it and waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin/meshlet.js');

export interface MeshletProc {
  readonly proc: ChildProcess;
  readonly outbound: number;
  readonly inbound: number;
  readonly admin: number;
  readonly metrics: number;
  stderr(): string;
  stdout(): string;
  stop(): Promise<void>;
}

export async function startMeshlet(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<MeshletProc> {
  const proc = spawn(process.execPath, [BIN, 'proxy', '--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--metrics-port', '0', '--listen-address', '127.0.0.1', ...args], {
    env: { ...process.env, MESHLET_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const line = await new Promise<string>((resolveLine, reject) => {
    const t = setTimeout(() => reject(new Error(`meshlet did not start in ${timeoutMs} ms:\n${err}`)), timeoutMs);
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /meshlet proxy listening[^\n]*\n/.exec(err);
      if (m) {
        clearTimeout(t);
        resolveLine(m[0]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`meshlet exited with ${code}:\n${err}`));
    });
  });
  const port = (name: string): number => Number(new RegExp(`${name}=[^ ]*:(\\d+)`).exec(line)?.[1] ?? new RegExp(`${name}=(\\d+)`).exec(line)?.[1] ?? 0);
  return {
    proc,
    outbound: port('outbound'),
    inbound: port('inbound'),
    admin: port('admin'),
    metrics: port('metrics'),
    stderr: () => err,
    stdout: () => out,
    stop: () =>
      new Promise<void>((r) => {
        if (proc.exitCode !== null) return r();
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        proc.once('exit', () => {
          clearTimeout(t);
          r();
        });
        proc.kill('SIGTERM');
      }),
  };
}

export function tempConfig(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-test-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A ServiceEntry for `host` with one static endpoint per given port (labels version=v<i+1> unless given). */
export function serviceEntry(host: string, ports: number[], opts: { servicePort?: number; labels?: Record<string, string>[]; ns?: string } = {}): string {
  const sp = opts.servicePort ?? 9080;
  const eps = ports
    .map((p, i) => {
      const labels = opts.labels?.[i] ?? { app: host, version: `v${i + 1}` };
      return `    - address: 127.0.0.1\n      ports: { http: ${p} }\n      labels: ${JSON.stringify(labels)}`;
    })
    .join('\n');
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${host}${opts.ns ? `, namespace: ${opts.ns}` : ''} }
spec:
  hosts: [${host}]
  resolution: STATIC
  ports: [{ number: ${sp}, name: http, protocol: HTTP }]
  endpoints:
${eps}
---
`;
}

/**
 * A VirtualService for host `svc` with one route to `svc`; `extra` is more of
 * that route (YAML lines indented 6 spaces), `annotations` a flow-mapping body.
 * Ends with a document separator so more resources can follow.
 */
export function svcRoute(extra: string, annotations = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: svc
${annotations !== '' ? `  annotations: { ${annotations} }\n` : ''}spec:
  hosts: [svc]
  http:
    - route: [{ destination: { host: svc } }]
${extra}---
`;
}

export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function write(path: string, text: string): void {
  writeFileSync(path, text);
}
