// Wires the injection webhook into the control plane: TLS from the in-cluster
// CA Secret (and caBundle patch) when running with Kubernetes, else an
// in-memory CA; namespace labels from the Namespace informer, falling back to
// an API read for a namespace the cache has not seen yet.
import type { KubernetesSource } from './sources/kubernetes/index.js';

export interface InjectorOptions {
  readonly host: string;
  readonly port: number;
  readonly image: string;
  readonly controlPlane: string;
  readonly nativeSidecar: boolean;
  /** In-cluster TLS bootstrap (needs --kubernetes); undefined = in-memory CA. */
  readonly cluster?: { readonly namespace: string; readonly secretName: string; readonly serviceName: string; readonly webhookConfigName: string };
}

export interface RunningInjector {
  readonly port: number;
  readonly caPem: string;
  close(): Promise<void>;
}

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** `mesh`: the CA root and token audience injected sidecars authenticate with (absent: the control plane runs --insecure). */
export async function startInjector(o: InjectorOptions, kube: KubernetesSource | undefined, log: Log, mesh?: { readonly caRootPem: string; readonly tokenAudience: string }): Promise<RunningInjector> {
  // Loaded on demand: x509 and the admission code are not needed otherwise.
  const inj = await import('./injector/index.js');
  let caPem: string;
  let tls;
  if (o.cluster) {
    if (!kube) throw new Error('--injector-in-cluster needs --kubernetes');
    const cert = await inj.bootstrapWebhookCert({ kubeConfig: kube.kubeConfig, ...o.cluster, log });
    caPem = cert.caPem;
    tls = cert.tls;
  } else {
    const ca = await inj.createCertAuthority('meshlet-injector-ca');
    caPem = ca.certPem;
    tls = await inj.issueServingCert(ca, ['localhost', ...inj.serviceDnsNames('meshlet-control-plane', 'meshlet-system')], ['127.0.0.1']);
  }
  const settings = { ...inj.DEFAULT_INJECT_SETTINGS, image: o.image, controlPlane: o.controlPlane, nativeSidecar: o.nativeSidecar, ...(mesh ?? {}) };
  const namespaceLabels = async (ns: string): Promise<Readonly<Record<string, string>> | undefined> => {
    if (!kube) return undefined;
    const cached = kube.namespaces.get(ns);
    if (cached) return cached.metadata?.labels ?? {};
    try {
      const { CoreV1Api } = await import('@kubernetes/client-node');
      return (await kube.kubeConfig.makeApiClient(CoreV1Api).readNamespace({ name: ns })).metadata?.labels ?? {};
    } catch (err) {
      log('warn', `injector: namespace ${ns} unknown (${(err as Error).message.split('\n')[0] ?? ''}); treating it as not labelled`);
      return undefined;
    }
  };
  const server = new inj.WebhookServer({ tls, settings, namespaceLabels, log });
  const port = await server.listen(o.host, o.port);
  return { port, caPem, close: () => server.close() };
}
