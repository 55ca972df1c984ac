// Public surface of routing: which virtual host answers a Host header, and
// which of its routes matches a request. Pure and synchronous; compiled once
// per snapshot, allocation-free per request on the common paths.
export { HostIndex, type HostIndexEntry } from './host-index.js';
export { compileRoutes, compileRoutesLinear, type RouteRequest, type RouteSource, type RouteTable } from './route-table.js';
export { compileStringMatch, compileRegex, type StringMatcher, type StringMatchSpec } from './string-matcher.js';
export { compilePathRewrite, type PathRewrite } from './rewrite-path.js';
export { normalizePath, normalizeTargetPath, setPathNormalization, isPathNormalization, PATH_NORMALIZATIONS, type PathNormalization } from './normalize-path.js';
export { takeTimeoutHeaders, type RequestTimeouts } from './timeout-headers.js';
