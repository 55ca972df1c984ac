export { ConfigStreamClient, type ConfigStreamClientOptions, type NodeInfo, type StreamState } from './config-stream-client.js';
export { decodeSnapshot, withoutExpired, type DecodeResult, type WireResource } from './decode-snapshot.js';
export { Backoff } from './backoff.js';
export { CertificateClient } from './certificate-client.js';
export { channelCredentials, callMetadata, tokenFromFile, type ControlPlaneAuth } from './control-plane-credentials.js';
