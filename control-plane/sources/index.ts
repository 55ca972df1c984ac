export { FileSource, type FileSourceOptions, type SourceLoader } from './file-source.js';
export { MeshSources, type KubernetesOptions, type MeshSourcesOptions, type SourceStatusRow } from './mesh-sources.js';
export { mergeSources, type MergeResult } from './merge-sources.js';
// The Kubernetes source lives in ./kubernetes/index.js, imported on demand (its client library is slow to load).
export { DnsResolver, type DnsResolverOptions, type LookupAll } from './dns-resolver.js';
export { loadIstioDir, type ConfigLoader, type LoadResult } from './istio-loader.js';
export { ExperimentOverlays, MAX_EXPERIMENT_TTL_MS } from './experiment-overlays.js';
