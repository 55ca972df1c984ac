export { createPipeline, routeFromSnapshot, RequestState, type PipelineDeps, type RouteResolver } from './outbound.js';
export { createInboundPipeline, type InboundOptions, type InboundPipeline } from './inbound.js';
export { Exchange, type ExchangeObserver, type Direction, type TraceContext, type DestinationInfo, type EndpointInfo } from './exchange.js';
export { NO_EVENTS, type ResilienceEvents, type OutcomeRecorder, type AttemptOutcome } from './events.js';
export { routeUpgrade, type UpgradeRoute } from './upgrade-route.js';
export { PassthroughRoutes, withOutboundPolicy, PASSTHROUGH, BLACKHOLE, PASSTHROUGH_CLUSTER, BLACKHOLE_CLUSTER } from './passthrough.js';
export { outboundHandlers, inboundHandlers, type RouterDeps, type InboundTarget } from './connection-router.js';
export { proxyTcp, type TcpDeps, type TcpObserver, type TcpRecord, type TcpTarget } from './tcp.js';
