export { createPipeline, routeFromSnapshot, RequestState, type PipelineDeps, type RouteResolver } from './outbound.js';
export { createInboundPipeline, type InboundOptions } from './inbound.js';
export { Exchange, type ExchangeObserver, type Direction, type TraceContext, type DestinationInfo, type EndpointInfo } from './exchange.js';
export { NO_EVENTS, type ResilienceEvents, type OutcomeRecorder, type AttemptOutcome } from './events.js';
export { routeUpgrade, type UpgradeRoute } from './upgrade-route.js';
