export { createPipeline, createUpgradeHandler, routeFromSnapshot, RequestState, type PipelineDeps, type RouteResolver } from './outbound.js';
export { createInboundPipeline, type InboundOptions, type InboundPipeline } from './inbound.js';
export { PassthroughRoutes, withOutboundPolicy, PASSTHROUGH, BLACKHOLE, PASSTHROUGH_CLUSTER, BLACKHOLE_CLUSTER } from './passthrough.js';
export { outboundHandlers, inboundHandlers, type RouterDeps, type InboundTarget } from './connection-router.js';
export { proxyTcp, type TcpDeps, type TcpTarget } from './tcp.js';
