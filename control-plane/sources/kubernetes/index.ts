export { KubernetesSource, loadKubeConfig, type KubernetesSourceOptions, type KubernetesSourceStatus, type KubernetesUpdate } from './kubernetes-source.js';
export { serviceEntriesFromKube, CLUSTER_DOMAIN, SERVICE_NAME_LABEL, SYNTHETIC_PREFIX, type KubeServiceEntries, type KubeServiceInputs } from './service-entries-from-kube.js';
export { SupervisedInformer, type InformerStatus, type InformerTiming, type SupervisedInformerOptions } from './supervised-informer.js';
