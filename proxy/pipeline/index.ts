export { createPipeline, createUpgradeHandler, routeFromSnapshot, RequestState, type PipelineDeps, type RouteResolver } from './outbound.js';
export { createInboundPipeline, type InboundOptions } from './inbound.js';
