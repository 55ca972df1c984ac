// The Kubernetes source: supervised informers on Services, EndpointSlices,
// Pods, Namespaces and the Istio networking CRDs, folded (debounced) into one
// update of Istio-shaped resources for the same translation the file source
// uses. Invalid CRD objects are reported, never fatal: the rest still applies.
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, type KubernetesListObject, type KubernetesObject, type V1EndpointSlice, type V1Namespace, type V1Pod, type V1Service } from '@kubernetes/client-node';
import type { ConfigIssue } from '../../../proxy/config/model/index.js';
import { parseIstioObject, type IstioResource } from '../../../proxy/config/index.js';
import { serviceEntriesFromKube } from './service-entries-from-kube.js';
import { SupervisedInformer, type InformerStatus, type InformerTiming } from './supervised-informer.js';

export interface KubernetesUpdate {
  readonly resources: readonly IstioResource[];
  readonly issues: readonly ConfigIssue[];
}

export interface KubernetesSourceOptions {
  /** Kubeconfig file; undefined = in-cluster service account, else the default kubeconfig. */
  readonly kubeconfig?: string;
  readonly onUpdate: (update: KubernetesUpdate) => void;
  /** Quiet time folding a burst of watch events into one update (default 100 ms). */
  readonly debounceMs?: number;
  readonly timing?: InformerTiming;
  readonly log: (level: 'info' | 'warn', msg: string) => void;
}

export interface KubernetesSourceStatus {
  /** True when any watch is not known-current (the last known state is being served). */
  readonly stale: boolean;
  readonly informers: readonly InformerStatus[];
}

const ISTIO_KINDS = [
  { plural: 'virtualservices', name: 'VirtualService', group: 'networking.istio.io' },
  { plural: 'destinationrules', name: 'DestinationRule', group: 'networking.istio.io' },
  { plural: 'serviceentries', name: 'ServiceEntry', group: 'networking.istio.io' },
  { plural: 'authorizationpolicies', name: 'AuthorizationPolicy', group: 'security.istio.io' },
] as const;
/** Istio serves both with one schema; v1 first, v1beta1 for Istio < 1.22 CRDs. */
const ISTIO_VERSIONS = ['v1', 'v1beta1'] as const;

export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file !== undefined) kc.loadFromFile(file);
  else if (process.env['KUBERNETES_SERVICE_HOST']) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

export class KubernetesSource {
  readonly #o: KubernetesSourceOptions;
  readonly kubeConfig: KubeConfig;
  readonly services: SupervisedInformer<V1Service>;
  readonly slices: SupervisedInformer<V1EndpointSlice>;
  readonly pods: SupervisedInformer<V1Pod>;
  readonly namespaces: SupervisedInformer<V1Namespace>;
  readonly #crds: SupervisedInformer<KubernetesObject>[];
  #debounce: NodeJS.Timeout | undefined;
  #burstStart: number | undefined;
  #closed = false;

  constructor(opts: KubernetesSourceOptions) {
    this.#o = opts;
    const kc = (this.kubeConfig = loadKubeConfig(opts.kubeconfig));
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const common = { kubeConfig: kc, onChange: () => this.#schedule(), log: opts.log, ...(opts.timing ? { timing: opts.timing } : {}) };
    this.services = new SupervisedInformer<V1Service>({ ...common, name: 'services', paths: ['/api/v1/services'], list: () => core.listServiceForAllNamespaces() });
    this.slices = new SupervisedInformer<V1EndpointSlice>({ ...common, name: 'endpointslices', paths: ['/apis/discovery.k8s.io/v1/endpointslices'], list: () => discovery.listEndpointSliceForAllNamespaces() });
    this.pods = new SupervisedInformer<V1Pod>({ ...common, name: 'pods', paths: ['/api/v1/pods'], list: () => core.listPodForAllNamespaces() });
    this.namespaces = new SupervisedInformer<V1Namespace>({ ...common, name: 'namespaces', paths: ['/api/v1/namespaces'], list: () => core.listNamespace() });
    this.#crds = ISTIO_KINDS.map(
      (k) =>
        new SupervisedInformer<KubernetesObject>({
          ...common,
          name: k.plural,
          paths: ISTIO_VERSIONS.map((v) => `/apis/${k.group}/${v}/${k.plural}`),
          list: async (path) => {
            const version = path.split('/')[3] ?? 'v1';
            return (await custom.listClusterCustomObject({ group: k.group, version, plural: k.plural })) as KubernetesListObject<KubernetesObject>;
          },
        }),
    );
  }

  #all(): SupervisedInformer<KubernetesObject>[] {
    return [this.services, this.slices, this.pods, this.namespaces, ...this.#crds] as unknown as SupervisedInformer<KubernetesObject>[];
  }

  /** Starts every watch; resolves once each has listed, or after `syncTimeoutMs` with whatever is known. */
  async start(syncTimeoutMs = 10_000): Promise<boolean> {
    for (const i of this.#all()) i.start();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), syncTimeoutMs)));
    const ok = await Promise.race([Promise.all(this.#all().map((i) => i.synced)).then(() => true), timedOut]);
    clearTimeout(timer);
    this.#emit();
    return ok;
  }

  status(): KubernetesSourceStatus {
    const informers = this.#all().map((i) => i.status());
    return { stale: informers.some((i) => i.state !== 'synced'), informers };
  }

  /** The current update, computed from the informer caches. */
  snapshot(): KubernetesUpdate {
    const { entries, issues } = serviceEntriesFromKube({ services: this.services.list(), slices: this.slices.list(), pods: this.pods.list() });
    const resources: IstioResource[] = [...entries];
    const allIssues: ConfigIssue[] = [...issues];
    for (const inf of this.#crds) {
      for (const obj of inf.list()) {
        const ref = `${obj.kind ?? '?'}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
        // Only what a manifest says: server-set metadata (uid, managedFields, …) is not config.
        const m = obj.metadata ?? {};
        const manifest = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: m.name, namespace: m.namespace, labels: m.labels, annotations: m.annotations }, spec: (obj as { spec?: unknown }).spec };
        const parsed = parseIstioObject(manifest, ref);
        resources.push(...parsed.resources);
        allIssues.push(...parsed.issues);
      }
    }
    return { resources, issues: allIssues };
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#debounce);
    for (const i of this.#all()) i.close();
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    const quiet = this.#o.debounceMs ?? 100;
    // Steady churn must not starve updates: emit at least every 10 quiet periods.
    this.#burstStart ??= Date.now();
    const wait = Math.max(0, Math.min(quiet, this.#burstStart + 10 * quiet - Date.now()));
    this.#debounce = setTimeout(() => this.#emit(), wait);
  }

  #emit(): void {
    this.#burstStart = undefined;
    if (this.#closed) return;
    this.#o.onUpdate(this.snapshot());
  }
}
