// networking.istio.io ServiceEntry: the only source of services and endpoints
// in Meshlet (there is no Kubernetes registry), so every routable host must
// be declared by one.

import { z } from 'zod';

const PortSchema = z.looseObject({
  number: z.number().int().min(1).max(65535),
  protocol: z.string().optional(),
  name: z.string().min(1, 'port name is required'),
  targetPort: z.number().int().min(1).max(65535).optional(),
});

const WorkloadEntrySchema = z.looseObject({
  address: z.string().min(1, 'endpoint address is required'),
  ports: z.record(z.string(), z.number().int().min(1).max(65535)).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  weight: z.number().int().min(0).optional(),
});

export const IstioServiceEntrySpecSchema = z.looseObject({
  hosts: z.array(z.string().min(1)).min(1, 'at least one host is required'),
  addresses: z.array(z.string()).optional(),
  ports: z.array(PortSchema).min(1, 'at least one port is required'),
  location: z.enum(['MESH_EXTERNAL', 'MESH_INTERNAL']).optional(),
  resolution: z.enum(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN']).optional(),
  endpoints: z.array(WorkloadEntrySchema).optional(),
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
