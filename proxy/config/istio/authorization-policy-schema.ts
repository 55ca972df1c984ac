// security.istio.io AuthorizationPolicy (v1 and v1beta1 share this shape).
// Every field of Istio's API is here, so a typo is an "unknown field" with a
// did-you-mean; the ones Meshlet cannot enforce (targetRefs, JWT request
// principals, the CUSTOM action's provider) are declared and refused in
// field-support.ts, because ignoring an authorization field fails open.
// Semantics that need more than a shape (condition keys, IP blocks, ports)
// are checked by the translation (translate/authorization-policies.ts).

import { z } from 'zod';
import { declared } from './istio-common-schema.js';

const strings = z.array(z.string()).optional();

export const IstioAuthzSourceSchema = z.strictObject({
  principals: strings,
  notPrincipals: strings,
  requestPrincipals: strings,
  notRequestPrincipals: strings,
  namespaces: strings,
  notNamespaces: strings,
  serviceAccounts: strings,
  notServiceAccounts: strings,
  ipBlocks: strings,
  notIpBlocks: strings,
  remoteIpBlocks: strings,
  notRemoteIpBlocks: strings,
  trustDomains: strings,
  notTrustDomains: strings,
});
export type IstioAuthzSource = z.infer<typeof IstioAuthzSourceSchema>;

export const IstioAuthzOperationSchema = z.strictObject({
  hosts: strings,
  notHosts: strings,
  ports: strings,
  notPorts: strings,
  methods: strings,
  notMethods: strings,
  paths: strings,
  notPaths: strings,
});
export type IstioAuthzOperation = z.infer<typeof IstioAuthzOperationSchema>;

export const IstioAuthzConditionSchema = z.strictObject({
  key: z.string().min(1, 'must not be empty'),
  values: strings,
  notValues: strings,
});
export type IstioAuthzCondition = z.infer<typeof IstioAuthzConditionSchema>;

export const IstioAuthzRuleSchema = z.strictObject({
  from: z.array(z.strictObject({ source: IstioAuthzSourceSchema.optional() })).optional(),
  to: z.array(z.strictObject({ operation: IstioAuthzOperationSchema.optional() })).optional(),
  when: z.array(IstioAuthzConditionSchema).optional(),
});
export type IstioAuthzRule = z.infer<typeof IstioAuthzRuleSchema>;

export const IstioAuthorizationPolicySpecSchema = z.strictObject({
  selector: z.strictObject({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
  targetRef: declared,
  targetRefs: declared,
  rules: z.array(IstioAuthzRuleSchema).max(512, 'at most 512 rules (Istio’s limit)').optional(),
  action: z.enum(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']).optional(),
  provider: declared,
});
export type IstioAuthorizationPolicySpec = z.infer<typeof IstioAuthorizationPolicySpecSchema>;
