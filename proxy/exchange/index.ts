// Per-request state and the interfaces that observe it: a leaf module (it
// imports nothing from the proxy), so errors/, upstream/, layers/, observe/
// and pipeline/ can all name these types without forming an import cycle.
export { Exchange, type ExchangeObserver, type Direction, type TraceContext, type DestinationInfo, type EndpointInfo } from './exchange.js';
export { NO_EVENTS, type ResilienceEvents, type MirrorEvents, type MirrorOutcome } from './resilience-events.js';
