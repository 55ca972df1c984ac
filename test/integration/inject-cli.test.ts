// `meshlet inject -f` (the built CLI) on multi-document YAML holding every
// workload kind, a List and a Service: each injected object validates against
// the Kubernetes OpenAPI schemas, and injecting the output again changes nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/meshlet-process.js';
import { validateKubeObject } from '../support/kube-schema.js';

const TEMPLATE = `
    metadata: { labels: { app: web, version: v1 } }
    spec:
      containers: [{ name: web, image: web:1, ports: [{ containerPort: 8080 }] }]`;

const INPUT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:${TEMPLATE}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  selector: { matchLabels: { app: web } }
  template:${TEMPLATE}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: web } }
  template:${TEMPLATE}
---
apiVersion: batch/v1
kind: Job
metadata: { name: once }
spec:
  template:
    metadata: { labels: { app: once } }
    spec:
      restartPolicy: Never
      containers: [{ name: once, image: once:1 }]
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{ name: n, image: n:1 }]
---
apiVersion: v1
kind: Pod
metadata: { name: solo, annotations: { sidecar.meshlet.io/inject: "false" } }
spec:
  containers: [{ name: solo, image: solo:1 }]
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: { name: listed }
    spec:
      containers: [{ name: listed, image: listed:1 }]
  - apiVersion: v1
    kind: Service
    metadata: { name: web }
    spec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: 8080 }] }
`;

function inject(file: string, extra: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'inject', '-f', file, ...extra], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Container = { name: string; restartPolicy?: string };
type PodSpec = { initContainers?: Container[]; containers: Container[] };

function podSpecs(obj: Record<string, unknown>): PodSpec[] {
  const o = obj as { kind: string; spec?: { template?: { spec: PodSpec }; jobTemplate?: { spec: { template: { spec: PodSpec } } } }; items?: Record<string, unknown>[] };
  if (o.kind === 'List') return (o.items ?? []).flatMap(podSpecs);
  if (o.kind === 'Pod') return [o.spec as unknown as PodSpec];
  if (o.kind === 'CronJob') return [o.spec!.jobTemplate!.spec.template.spec];
  if (o.kind === 'Service') return [];
  return [o.spec!.template!.spec];
}

describe('meshlet inject', () => {
  it('injects every workload kind in a multi-document stream into schema-valid objects, idempotently', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-inject-'));
    const file = join(dir, 'in.yaml');
    writeFileSync(file, INPUT);
    const r = inject(file);
    expect(r.stderr).toContain('not injected: pod has sidecar.meshlet.io/inject: "false"');
    expect(r.status).toBe(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs.map((d) => d['kind'])).toEqual(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod', 'List']);
    for (const d of docs) {
      for (const o of d['kind'] === 'List' ? (d['items'] as unknown[]) : [d]) expect(() => validateKubeObject(o)).not.toThrow();
    }
    const specs = docs.flatMap(podSpecs);
    const names = specs.map((s) => (s.initContainers ?? []).map((c) => c.name).join(','));
    // Everything but the opted-out Pod gets the init container and the native sidecar.
    expect(names).toEqual(['meshlet-init,meshlet-proxy', 'meshlet-init,meshlet-proxy', 'meshlet-init,meshlet-proxy', 'meshlet-init,meshlet-proxy', 'meshlet-init,meshlet-proxy', '', 'meshlet-init,meshlet-proxy']);
    const out = join(dir, 'out.yaml');
    writeFileSync(out, r.stdout);
    expect(inject(out).stdout).toBe(r.stdout);
  });

  it('classic mode puts the proxy first in containers; a bad annotation refuses the whole stream', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-inject-'));
    const file = join(dir, 'in.yaml');
    writeFileSync(file, INPUT);
    const classic = inject(file, ['--sidecar-mode', 'classic']);
    const dep = parseAllDocuments(classic.stdout)[0]?.toJS() as { spec: { template: { spec: PodSpec } } };
    expect(dep.spec.template.spec.containers.map((c) => c.name)).toEqual(['meshlet-proxy', 'web']);
    expect(dep.spec.template.spec.initContainers?.map((c) => c.name)).toEqual(['meshlet-init']);
    writeFileSync(file, INPUT.replace('    metadata: { labels: { app: web, version: v1 } }', '    metadata: { labels: { app: web }, annotations: { traffic.sidecar.meshlet.io/excludeInboundPorts: "http" } }'));
    const bad = inject(file);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('traffic.sidecar.meshlet.io/excludeInboundPorts: "http" is not a port');
  });
});

describe('meshlet inject: drain window', () => {
  it("sets the sidecar's --drain-seconds from the pod's terminationGracePeriodSeconds (1 s before the kubelet's SIGKILL; 29 s by default)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-inject-drain-'));
    const file = join(dir, 'pods.yaml');
    writeFileSync(file, `apiVersion: v1
kind: Pod
metadata: { name: slow, labels: { app: slow } }
spec:
  terminationGracePeriodSeconds: 45
  containers: [{ name: slow, image: slow:1 }]
---
apiVersion: v1
kind: Pod
metadata: { name: plain, labels: { app: plain } }
spec:
  containers: [{ name: plain, image: plain:1 }]
`);
    const r = spawnSync(process.execPath, [BIN, 'inject', '-f', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const drains = parseAllDocuments(r.stdout).map((d) => {
      const pod = d.toJS() as { spec: { initContainers?: { name: string; env?: { name: string; value?: string }[] }[] } };
      const proxy = (pod.spec.initContainers ?? []).find((c) => c.env?.some((e) => e.name === 'MESHLET_CONTROL_PLANE'));
      return proxy?.env?.find((e) => e.name === 'MESHLET_DRAIN_SECONDS')?.value;
    });
    expect(drains).toEqual(['44', '29']);
  });
});
