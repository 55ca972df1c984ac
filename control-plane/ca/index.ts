// Public surface of the control plane's certificate authority.
export { CertificateAuthority, CsrError, type IssuedCertificate } from './certificate-authority.js';
export { CA_CERT_FILE, CA_KEY_FILE, ROOT_CERT_FILE, loadOrCreateCaDir, loadProvidedCa } from './load-ca.js';
// ca-secret.ts (the CA in a Kubernetes Secret) is imported on demand by auth/load-security.ts.
