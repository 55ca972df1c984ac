// A parsed, schema-checked Istio object as the translation consumes it. The
// spec types come from the zod schemas (one source of truth); metadata is
// normalised (namespace defaulted, maps never undefined) so callers need not
// repeat the defaults.

import type { IstioAuthorizationPolicySpec } from './authorization-policy-schema.js';
import type { IstioDestinationRuleSpec } from './destination-rule-schema.js';
import type { IstioPeerAuthenticationSpec } from './peer-authentication-schema.js';
import type { IstioServiceEntrySpec } from './service-entry-schema.js';
import type { IstioSidecarSpec } from './sidecar-schema.js';
import type { IstioVirtualServiceSpec } from './virtual-service-schema.js';

export type IstioKind = 'ServiceEntry' | 'DestinationRule' | 'VirtualService' | 'Sidecar' | 'PeerAuthentication' | 'AuthorizationPolicy';

export const ISTIO_GROUP = 'networking.istio.io';
/** All three served versions share one schema in Istio, so we accept each. */
export const ISTIO_VERSIONS: readonly string[] = ['v1', 'v1beta1', 'v1alpha3'];
export const DEFAULT_NAMESPACE = 'default';

export interface IstioMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

interface IstioResourceOf<K extends IstioKind, S> {
  readonly kind: K;
  readonly apiVersion: string;
  readonly metadata: IstioMetadata;
  readonly spec: S;
  /** File the resource was read from, when it came from a file. */
  readonly file?: string;
}

export type IstioServiceEntry = IstioResourceOf<'ServiceEntry', IstioServiceEntrySpec>;
export type IstioDestinationRule = IstioResourceOf<'DestinationRule', IstioDestinationRuleSpec>;
export type IstioVirtualService = IstioResourceOf<'VirtualService', IstioVirtualServiceSpec>;
export type IstioSidecar = IstioResourceOf<'Sidecar', IstioSidecarSpec>;
export type IstioPeerAuthentication = IstioResourceOf<'PeerAuthentication', IstioPeerAuthenticationSpec>;
export type IstioAuthorizationPolicy = IstioResourceOf<'AuthorizationPolicy', IstioAuthorizationPolicySpec>;
export type IstioResource = IstioServiceEntry | IstioDestinationRule | IstioVirtualService | IstioSidecar | IstioPeerAuthentication | IstioAuthorizationPolicy;

/** `Kind/namespace/name`, the resource id every ConfigIssue carries. */
export function resourceRef(r: { readonly kind: string; readonly metadata: { readonly namespace: string; readonly name: string } }): string {
  return `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
}
