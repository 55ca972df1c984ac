// The injection webhook over real HTTPS: AdmissionReviews for pods as each
// workload controller creates them → JSONPatch applied with fast-json-patch →
// the result validated against the Kubernetes OpenAPI schemas
// (kubernetes-models). Namespace opt-in is read through the Kubernetes source
// from the fake API server (test double, real list/watch protocol).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { afterEach, describe, expect, it } from 'vitest';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/index.js';
import { FakeKubeApiServer, type KubeObject } from '../support/fake-kube-apiserver.js';
import { namespace } from '../support/kube-objects.js';
import { validateKubeObject } from '../support/kube-schema.js';
import { send } from '../support/http-client.js';
import { startMeshlet, until } from '../support/meshlet-process.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Reply {
  status: number;
  body: { response?: { uid: string; allowed: boolean; patch?: string; patchType?: string; status?: { code: number; message: string } }; error?: string };
}

function post(port: number, ca: string, body: unknown, path = '/inject'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as Reply['body'] }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

function review(pod: KubeObject, ns: string, uid = 'uid-1'): unknown {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: ns, operation: 'CREATE', object: pod } };
}

/** A pod as the named controller creates it from its template. */
function podOf(ownerKind: string, name: string, ns: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: `${name}-`, name: '', namespace: ns, labels: { app: name, version: 'v1' }, annotations, ownerReferences: [{ apiVersion: ownerKind === 'Job' ? 'batch/v1' : 'apps/v1', kind: ownerKind, name, uid: 'owner-uid', controller: true }] },
    spec: {
      restartPolicy: ownerKind === 'Job' ? 'Never' : 'Always',
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'app', image: `${name}:1`, ports: [{ containerPort: 9080, protocol: 'TCP' }], readinessProbe: { httpGet: { path: '/health', port: 9080 } } }],
    },
  };
}

function applied(pod: KubeObject, reply: Reply): KubeObject {
  const ops = JSON.parse(Buffer.from(reply.body.response?.patch ?? '', 'base64').toString()) as Operation[];
  return fastJsonPatch.applyPatch(structuredClone(pod), ops, true, false).newDocument;
}

async function setup(): Promise<{ api: FakeKubeApiServer; cp: RunningControlPlane; port: number; ca: string }> {
  const api = await FakeKubeApiServer.start();
  cleanups.push(() => api.close());
  api.apply(namespace('mesh', { 'meshlet-injection': 'enabled' }));
  api.apply(namespace('plain'));
  const cp = await startControlPlane({ security: { insecure: true },
    grpcHost: '127.0.0.1',
    grpcPort: 0,
    metricsPort: -1,
    log: () => {},
    kubernetes: { kubeconfig: api.writeKubeconfig(), timing: { resyncMs: 0 } },
    injector: { host: '127.0.0.1', port: 0, image: 'meshlet:test', controlPlane: 'cp.meshlet-system.svc:15010', nativeSidecar: true },
  });
  cleanups.push(() => cp.close());
  if (!cp.injector) throw new Error('injector not started');
  return { api, cp, port: cp.injector.port, ca: cp.injector.caPem };
}

describe('injection webhook (HTTPS AdmissionReview)', () => {
  it('injects pods of every workload kind with a patch that yields a schema-valid pod, and is idempotent', async () => {
    const { port, ca } = await setup();
    for (const kind of ['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job']) {
      const pod = podOf(kind, `w-${kind.toLowerCase()}`, 'mesh');
      const r = await post(port, ca, review(pod, 'mesh'));
      expect(r.status).toBe(200);
      expect(r.body.response).toMatchObject({ uid: 'uid-1', allowed: true, patchType: 'JSONPatch' });
      const out = applied(pod, r) as KubeObject & { spec: { initContainers: { name: string; restartPolicy?: string; securityContext?: { runAsUser?: number } }[]; containers: { name: string }[] } };
      expect(() => validateKubeObject(out)).not.toThrow();
      expect(out.spec.initContainers.map((c) => c.name)).toEqual(['meshlet-init', 'meshlet-proxy']);
      expect(out.spec.initContainers[1]?.restartPolicy).toBe('Always');
      expect(out.spec.initContainers[1]?.securityContext?.runAsUser).toBe(1337);
      expect(out.spec.containers.map((c) => c.name)).toEqual(['app']);
      // Idempotent: the injected pod comes back unchanged.
      const again = await post(port, ca, review(out, 'mesh', 'uid-2'));
      expect(again.body.response).toEqual({ uid: 'uid-2', allowed: true });
    }
  });

  it('injects only where asked: namespace label, pod opt-out, pod opt-in', async () => {
    const { port, ca } = await setup();
    expect((await post(port, ca, review(podOf('ReplicaSet', 'a', 'plain'), 'plain'))).body.response?.patch).toBeUndefined();
    expect((await post(port, ca, review(podOf('ReplicaSet', 'b', 'mesh', { 'sidecar.meshlet.io/inject': 'false' }), 'mesh'))).body.response?.patch).toBeUndefined();
    expect((await post(port, ca, review(podOf('ReplicaSet', 'c', 'plain', { 'sidecar.meshlet.io/inject': 'true' }), 'plain'))).body.response?.patchType).toBe('JSONPatch');
  });

  it('turns traffic annotations into init-container arguments and refuses bad values with 400', async () => {
    const { port, ca } = await setup();
    const pod = podOf('ReplicaSet', 'd', 'mesh', { 'traffic.sidecar.meshlet.io/excludeOutboundPorts': '5432,6379', 'traffic.sidecar.meshlet.io/excludeOutboundIPRanges': '10.96.0.0/12' });
    const out = applied(pod, await post(port, ca, review(pod, 'mesh'))) as unknown as { spec: { initContainers: { command: string[] }[] } };
    expect(out.spec.initContainers[0]?.command).toEqual(expect.arrayContaining(['--exclude-outbound-ports=5432,6379', '--exclude-outbound-ip-ranges=10.96.0.0/12']));
    const bad = await post(port, ca, review(podOf('ReplicaSet', 'e', 'mesh', { 'traffic.sidecar.meshlet.io/excludeOutboundIPRanges': '10.0.0.0/8; reboot' }), 'mesh'));
    expect(bad.body.response).toMatchObject({ allowed: false, status: { code: 400 } });
    expect(bad.body.response?.status?.message).toContain('excludeOutboundIPRanges');
  });

  it('answers malformed requests with 4xx and keeps serving', async () => {
    const { port, ca } = await setup();
    expect((await post(port, ca, 'not json')).status).toBe(400);
    expect((await post(port, ca, { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1beta1', request: { uid: 'x' } })).status).toBe(400);
    expect((await post(port, ca, {}, '/other')).status).toBe(404);
    expect((await post(port, ca, review(podOf('ReplicaSet', 'f', 'mesh'), 'mesh'))).status).toBe(200);
  });

  it('in-cluster: keeps its CA in a Secret, patches the webhook caBundle, and a restart reuses the CA', async () => {
    const api = await FakeKubeApiServer.start();
    cleanups.push(() => api.close());
    api.apply({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'meshlet-sidecar-injector' }, webhooks: [{ name: 'sidecar.meshlet.io', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { service: { name: 'meshlet-control-plane', namespace: 'meshlet-system', path: '/inject', port: 15017 } } }] });
    const start = async (): Promise<RunningControlPlane> => {
      const cp = await startControlPlane({ security: { insecure: true },
        grpcHost: '127.0.0.1', grpcPort: 0, metricsPort: -1, log: () => {},
        kubernetes: { kubeconfig: api.writeKubeconfig(), timing: { resyncMs: 0 } },
        injector: { host: '127.0.0.1', port: 0, image: 'meshlet:test', controlPlane: 'cp:15010', nativeSidecar: true, cluster: { namespace: 'meshlet-system', secretName: 'meshlet-injector-ca', serviceName: 'meshlet-control-plane', webhookConfigName: 'meshlet-sidecar-injector' } },
      });
      cleanups.push(() => cp.close());
      return cp;
    };
    const first = await start();
    const secret = api.get('v1', 'Secret', 'meshlet-system', 'meshlet-injector-ca') as { data?: Record<string, string> } | undefined;
    expect(Buffer.from(secret?.data?.['ca.crt'] ?? '', 'base64').toString()).toBe(first.injector?.caPem);
    const mwc = api.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', undefined, 'meshlet-sidecar-injector') as unknown as { webhooks: { clientConfig: { caBundle?: string } }[] };
    expect(Buffer.from(mwc.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString()).toBe(first.injector?.caPem);
    await first.close();
    const second = await start();
    expect(second.injector?.caPem).toBe(first.injector?.caPem);
    // The API server reaches the webhook through the Service name: the certificate must say so.
    const r = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: second.injector?.port, path: '/healthz', ca: second.injector?.caPem, servername: 'meshlet-control-plane.meshlet-system.svc' }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
    expect(r).toBe(200);
  });
});

describe('secure injection (a control plane with a CA, Kubernetes TokenReview)', () => {
  it('injects the mesh root and a projected token volume, and a sidecar started from that env is authenticated by its token', async () => {
    const api = await FakeKubeApiServer.start();
    cleanups.push(() => api.close());
    api.apply(namespace('mesh', { 'meshlet-injection': 'enabled' }));
    const cp = await startControlPlane({
      security: {},
      grpcHost: '127.0.0.1',
      grpcPort: 0,
      metricsPort: -1,
      log: () => {},
      kubernetes: { kubeconfig: api.writeKubeconfig(), timing: { resyncMs: 0 } },
      injector: { host: '127.0.0.1', port: 0, image: 'meshlet:test', controlPlane: 'cp:15010', nativeSidecar: true },
    });
    cleanups.push(() => cp.close());
    const pod = podOf('ReplicaSet', 'reviews', 'mesh');
    const reply = await post(cp.injector!.port, cp.injector!.caPem, review(pod, 'mesh'));
    const out = applied(pod, reply) as KubeObject & { spec: { volumes?: unknown[]; initContainers: { name: string; env?: { name: string; value?: string }[]; volumeMounts?: unknown[] }[] } };
    validateKubeObject(out);
    const proxy = out.spec.initContainers.find((c) => c.name === 'meshlet-proxy')!;
    const env = new Map((proxy.env ?? []).map((e) => [e.name, e.value]));
    expect(env.has('MESHLET_INSECURE')).toBe(false);
    expect(env.get('MESHLET_CA_CERT')).toBe(cp.rootCertPem);
    expect(env.get('MESHLET_TOKEN_FILE')).toBe('/var/run/secrets/meshlet/tokens/meshlet-token');
    expect(out.spec.volumes).toContainEqual({ name: 'meshlet-token', projected: { sources: [{ serviceAccountToken: { audience: 'meshlet', expirationSeconds: 3600, path: 'meshlet-token' } }] } });
    expect(proxy.volumeMounts).toContainEqual({ name: 'meshlet-token', mountPath: '/var/run/secrets/meshlet/tokens', readOnly: true });

    // What the kubelet would do: write the pod's token there; the sidecar runs with exactly the injected env.
    const dir = mkdtempSync(join(tmpdir(), 'meshlet-inj-'));
    const tokenFile = join(dir, 'meshlet-token');
    writeFileSync(tokenFile, api.issueServiceAccountToken('mesh', 'default', { pod: 'reviews-abc', audiences: ['meshlet'] }));
    const sidecar = await startMeshlet(['--namespace', 'mesh', '--node-id', 'reviews-abc.mesh'], {
      MESHLET_CONTROL_PLANE: `127.0.0.1:${cp.port}`,
      MESHLET_CA_CERT: env.get('MESHLET_CA_CERT')!,
      MESHLET_TOKEN_FILE: tokenFile,
    }, 40_000);
    cleanups.push(() => sidecar.stop());
    await until(async () => ((await send(sidecar.admin, { path: '/ready' })).status === 200 ? true : undefined), 30_000);
    const info = JSON.parse((await send(sidecar.admin, { path: '/server_info' })).body) as { identity: string };
    expect(info.identity).toBe('spiffe://cluster.local/ns/mesh/sa/default');
  }, 90_000);
});
