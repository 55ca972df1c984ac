// A Bookinfo-like sample app for demos and e2e tests; the program is service.ts.
export { readServiceConfig, type BookinfoConfig, type BookinfoRole, type PeerCall, type Env } from './service-config.js';
export { startBookinfo, PROPAGATED_HEADERS, type BookinfoServer } from './bookinfo-server.js';
