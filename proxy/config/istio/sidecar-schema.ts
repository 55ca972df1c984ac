// networking.istio.io Sidecar: only `outboundTrafficPolicy.mode` is applied
// (what happens to destinations outside the registry). Its other fields are
// declared here and refused in field-support.ts: a standalone proxy cannot
// honour a workload selection or a narrowed egress, and must not pretend to.

import { z } from 'zod';
import { declared } from './istio-common-schema.js';

export const IstioSidecarSpecSchema = z.strictObject({
  workloadSelector: declared,
  egress: declared,
  ingress: declared,
  outboundTrafficPolicy: z.strictObject({ mode: z.enum(['ALLOW_ANY', 'REGISTRY_ONLY']), egressProxy: declared }).optional(),
  inboundConnectionPool: declared,
});
export type IstioSidecarSpec = z.infer<typeof IstioSidecarSpecSchema>;
