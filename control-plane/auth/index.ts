// Public surface of control-plane authentication.
export { BootstrapTokens, MIN_TOKEN_LENGTH } from './bootstrap-tokens.js';
export { AuthenticatorChain, bearerToken, type Authenticator, type Credential } from './credential.js';
export { DEFAULT_CA_SECRET, DEFAULT_CERT_TTL_MS, DEFAULT_TRUST_DOMAIN, loadSecurity, type ControlPlaneSecurity, type LoadedSecurity, type SecureOptions } from './load-security.js';
// token-review.ts (Kubernetes TokenReview) is imported on demand by load-security.ts: its client library is slow to load.
