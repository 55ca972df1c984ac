export { ControlPlaneMetrics, serveMetrics, boundPort } from './cp-metrics.js';
