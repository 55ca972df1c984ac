// The pod rig: network-namespace pods with Istio-style interception, for e2e tests.
export { PodRig, waitForLine, type PodSpec, type SpawnOptions, type ExecOptions, type RigOptions } from './pod-rig.js';
export { PodProcess, isAlive, type ProcessExit } from './pod-process.js';
export { cleanupStale, removeRig, findRigs, listNamespaces, namespacePids, rigState, STATE_DIR } from './rig-cleanup.js';
export { hostsFile, NODE_IP, VIP_CIDR, SERVICE_DOMAINS } from './netns-plumbing.js';
export { runCommand, CommandError, type CommandResult } from './run-command.js';
