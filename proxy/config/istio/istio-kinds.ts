// The Istio kinds Meshlet reads, each with its API group and spec schema, and
// the Istio kinds it knows but does not handle. To add a kind: its schema
// file, a row in KIND_SCHEMAS, its name in IstioKind (istio-resource.ts), and
// its translation (proxy/config/translate/README.md says how).

import type { z } from 'zod';
import { IstioAuthorizationPolicySpecSchema } from './authorization-policy-schema.js';
import { IstioDestinationRuleSpecSchema } from './destination-rule-schema.js';
import type { IstioKind } from './istio-resource.js';
import { IstioPeerAuthenticationSpecSchema } from './peer-authentication-schema.js';
import { IstioServiceEntrySpecSchema } from './service-entry-schema.js';
import { IstioSidecarSpecSchema } from './sidecar-schema.js';
import { IstioVirtualServiceSpecSchema } from './virtual-service-schema.js';

export const NETWORKING_GROUP = 'networking.istio.io';
export const SECURITY_GROUP = 'security.istio.io';

export const KIND_SCHEMAS: Readonly<Record<IstioKind, { readonly group: string; readonly schema: z.ZodType }>> = {
  ServiceEntry: { group: NETWORKING_GROUP, schema: IstioServiceEntrySpecSchema },
  DestinationRule: { group: NETWORKING_GROUP, schema: IstioDestinationRuleSpecSchema },
  VirtualService: { group: NETWORKING_GROUP, schema: IstioVirtualServiceSpecSchema },
  Sidecar: { group: NETWORKING_GROUP, schema: IstioSidecarSpecSchema },
  PeerAuthentication: { group: SECURITY_GROUP, schema: IstioPeerAuthenticationSpecSchema },
  AuthorizationPolicy: { group: SECURITY_GROUP, schema: IstioAuthorizationPolicySpecSchema },
};

/** Istio kinds that exist but that Meshlet does not apply. */
export const UNSUPPORTED_KINDS: Readonly<Record<string, { readonly severity: 'error' | 'warning'; readonly reason: string }>> = {
  Gateway: {
    severity: 'warning',
    reason: 'accepted, not applied: Meshlet has no gateways (VirtualServices bound only to gateways do not apply to sidecars)',
  },
  EnvoyFilter: { severity: 'error', reason: 'EnvoyFilter cannot apply: Meshlet is not Envoy' },
  WorkloadEntry: { severity: 'error', reason: 'WorkloadEntry is not supported: list the endpoints in the ServiceEntry' },
  WorkloadGroup: { severity: 'error', reason: 'WorkloadGroup is not supported' },
  ProxyConfig: { severity: 'error', reason: 'ProxyConfig is not supported: configure the sidecar with its flags' },
  RequestAuthentication: { severity: 'error', reason: 'RequestAuthentication is not supported: no JWT would be checked' },
};

export function isIstioApiGroup(group: string): boolean {
  return group === NETWORKING_GROUP || group === SECURITY_GROUP;
}
