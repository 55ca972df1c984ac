// networking.istio.io ServiceEntry: the only source of services and endpoints
// in Meshlet (there is no Kubernetes registry), so every routable host must
// be declared by one. Every field of Istio's API is declared; field-support.ts
// says what happens to those Meshlet does not apply.

import { z } from 'zod';
import { declared } from './istio-common-schema.js';

/**
 * Largest endpoint weight. Each weight unit costs a ring-hash point at least,
 * so unbounded weights would make one cluster's ring cost seconds to build;
 * 65,535 keeps any realistic ratio expressible (Envoy's weights are uint32,
 * but Envoy also normalises its ring to 8M entries).
 */
export const MAX_ENDPOINT_WEIGHT = 65_535;

const PortSchema = z.strictObject({
  number: z.number().int().min(1).max(65535),
  protocol: z.string().optional(),
  name: z.string().min(1, 'port name is required'),
  targetPort: z.number().int().min(1).max(65535).optional(),
});

const WorkloadEntrySchema = z.strictObject({
  address: z.string().min(1, 'endpoint address is required'),
  ports: z.record(z.string(), z.number().int().min(1).max(65535)).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  weight: z.number().int().min(0).max(MAX_ENDPOINT_WEIGHT, `must be at most ${MAX_ENDPOINT_WEIGHT}`).optional(),
  network: declared,
  locality: declared,
  serviceAccount: declared,
});

export const IstioServiceEntrySpecSchema = z.strictObject({
  hosts: z.array(z.string().min(1)).min(1, 'at least one host is required'),
  addresses: z.array(z.string()).optional(),
  ports: z.array(PortSchema).min(1, 'at least one port is required'),
  location: z.enum(['MESH_EXTERNAL', 'MESH_INTERNAL']).optional(),
  resolution: z.enum(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']).optional(),
  endpoints: z.array(WorkloadEntrySchema).optional(),
  workloadSelector: declared,
  exportTo: z.array(z.string()).optional(),
  subjectAltNames: z.array(z.string().min(1)).optional(),
}).superRefine((se, ctx) => {
  const seen = new Set<number>();
  se.ports.forEach((p, i) => {
    if (seen.has(p.number)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'number'], message: `duplicate port ${p.number}` });
    seen.add(p.number);
  });
});
export type IstioServiceEntrySpec = z.infer<typeof IstioServiceEntrySpecSchema>;
export type IstioServicePort = z.infer<typeof PortSchema>;
export type IstioWorkloadEntry = z.infer<typeof WorkloadEntrySchema>;
