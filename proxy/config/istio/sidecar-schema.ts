// networking.istio.io Sidecar: only `outboundTrafficPolicy.mode` is applied
// (what happens to destinations outside the registry). A Sidecar that selects
// workloads, or that narrows egress/ingress, cannot be honoured by a
// standalone proxy that does not know which workload it is: refused, not ignored.

import { z } from 'zod';

export const IstioSidecarSpecSchema = z.looseObject({
  workloadSelector: z.unknown().optional(),
  egress: z.unknown().optional(),
  ingress: z.unknown().optional(),
  outboundTrafficPolicy: z.looseObject({ mode: z.enum(['ALLOW_ANY', 'REGISTRY_ONLY']) }).optional(),
}).superRefine((s, ctx) => {
  for (const field of ['workloadSelector', 'egress', 'ingress'] as const) {
    if (s[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `Sidecar ${field} is not supported (only outboundTrafficPolicy is applied)` });
  }
});
export type IstioSidecarSpec = z.infer<typeof IstioSidecarSpecSchema>;
