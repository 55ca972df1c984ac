// Public surface of the sidecar's workload identity.
export { WorkloadIdentity, type IdentityCertificate, type SignedCertificate, type WorkloadIdentityOptions } from './workload-identity.js';
export { peerIdentityOf, type PeerIdentity } from './peer-identity.js';
export { generateWorkloadKey, uriSans, type WorkloadKey } from './workload-key.js';
