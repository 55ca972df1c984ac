export { FileSource, type FileSourceOptions } from './file-source.js';
export { DnsResolver, type DnsResolverOptions, type LookupAll } from './dns-resolver.js';
export { loadIstioDir, type ConfigLoader, type LoadResult } from './istio-loader.js';
