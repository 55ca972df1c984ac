// security.istio.io PeerAuthentication: which connections a workload's
// inbound side accepts (mutual TLS STRICT / PERMISSIVE / DISABLE), for the
// whole mesh (root namespace, no selector), a namespace (no selector), or the
// workloads a selector matches, with per-port overrides. Every field of
// Istio's API is applied; Istio's own validation rules are checked here.

import { z } from 'zod';

const ModeSchema = z.enum(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']);
const MutualTlsSchema = z.strictObject({ mode: ModeSchema.optional() });

export const IstioPeerAuthenticationSpecSchema = z
  .strictObject({
    selector: z.strictObject({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
    mtls: MutualTlsSchema.optional(),
    portLevelMtls: z.record(z.string(), MutualTlsSchema).optional(),
  })
  .superRefine((pa, ctx) => {
    const ports = Object.keys(pa.portLevelMtls ?? {});
    for (const p of ports) {
      const n = Number(p);
      if (!/^[0-9]+$/.test(p) || n < 1 || n > 65535) ctx.addIssue({ code: 'custom', path: ['portLevelMtls', p], message: 'must be a port number (1..65535)' });
    }
    // Istio: port-level settings only make sense for the ports of selected workloads.
    if (ports.length > 0 && Object.keys(pa.selector?.matchLabels ?? {}).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['portLevelMtls'], message: 'portLevelMtls requires a selector with matchLabels (Istio applies port-level mTLS to selected workloads only)' });
    }
  });
export type IstioPeerAuthenticationSpec = z.infer<typeof IstioPeerAuthenticationSpecSchema>;
