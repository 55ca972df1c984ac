export { FileSource, type FileSourceOptions } from './file-source.js';
export { DnsResolver, type DnsResolverOptions, type LookupAll } from './dns-resolver.js';
export { loadIstioDir, type ConfigLoader, type LoadResult } from './istio-loader.js';
export { ExperimentOverlays, MAX_EXPERIMENT_TTL_MS } from './experiment-overlays.js';
