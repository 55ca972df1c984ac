export { createPipeline, routeFromSnapshot, RequestState, type PipelineDeps, type RouteResolver } from './outbound.js';
export { createInboundPipeline, type InboundOptions } from './inbound.js';
export { routeUpgrade, type UpgradeRoute } from './upgrade-route.js';
