// Public surface of the authorization layer (Istio AuthorizationPolicy on the inbound side).
export { Authorizer, selects, type AuthzScope, type AuthzVerdict } from './authorizer.js';
export type { AuthzAttributes, AuthzPeer } from './compile-rule.js';
