// Public surface of the benchmark harness (main.ts is the entry point and is
// not re-exported: importing it runs the benchmark).
export { runOpenLoop, type OpenLoopOptions, type OpenLoopResult } from './open-loop.js';
export { runClosedLoop, type ClosedLoopOptions, type ClosedLoopResult } from './closed-loop.js';
export { summarize, median, spread, type LatencySummary } from './latency-summary.js';
export { startUpstream, UPSTREAM_PATHS, type BodySize, type UpstreamServer } from './upstream-server.js';
export { meshletConfigYaml, writeMeshletConfig, MESH_HOST } from './meshlet-config.js';
export { mainTargets, featureTargets, meshletTarget, type TargetSpec, type RunningTarget, type BenchContext } from './targets.js';
export { runRound, type BenchPlan, type Cell } from './run-matrix.js';
export { aggregate, renderText, renderMarkdown, type Row } from './report.js';
