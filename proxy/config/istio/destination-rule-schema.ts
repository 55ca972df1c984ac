// networking.istio.io DestinationRule: per-host load balancing, connection
// pool limits and outlier detection, plus named subsets (label selectors).
// Fields Meshlet does not apply (tls, portLevelSettings, localityLbSetting,
// warmup, ...) pass through the loose objects untouched.

import { z } from 'zod';
import { IstioDurationSchema } from './istio-common-schema.js';

const CookieSchema = z.looseObject({
  name: z.string().min(1),
  path: z.string().optional(),
  ttl: IstioDurationSchema.optional(),
});

const ConsistentHashSchema = z
  .looseObject({
    httpHeaderName: z.string().min(1).optional(),
    httpCookie: CookieSchema.optional(),
    useSourceIp: z.boolean().optional(),
    httpQueryParameterName: z.string().min(1).optional(),
    ringHash: z.looseObject({ minimumRingSize: z.number().int().min(1).optional() }).optional(),
    maglev: z.looseObject({ tableSize: z.number().int().min(1).optional() }).optional(),
    minimumRingSize: z.number().int().min(1).optional(),
  })
  .superRefine((h, ctx) => {
    const keys = [h.httpHeaderName, h.httpCookie, h.useSourceIp === true ? true : undefined, h.httpQueryParameterName];
    const n = keys.filter((k) => k !== undefined).length;
    if (n === 0) ctx.addIssue({ code: 'custom', message: 'consistentHash needs one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName' });
    if (n > 1) ctx.addIssue({ code: 'custom', message: 'consistentHash takes only one hash key' });
    if (h.ringHash !== undefined && h.maglev !== undefined) ctx.addIssue({ code: 'custom', message: 'ringHash and maglev are exclusive' });
  });

const LoadBalancerSchema = z
  .looseObject({
    simple: z.enum(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']).optional(),
    consistentHash: ConsistentHashSchema.optional(),
  })
  .superRefine((lb, ctx) => {
    if (lb.simple === 'PASSTHROUGH') {
      ctx.addIssue({
        code: 'custom',
        path: ['simple'],
        message: 'PASSTHROUGH is not supported: Meshlet always balances over the declared endpoints and cannot forward to the original destination address',
      });
    }
    if (lb.simple !== undefined && lb.consistentHash !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'simple and consistentHash are exclusive' });
    }
  });

const ConnectionPoolSchema = z.looseObject({
  tcp: z
    .looseObject({
      maxConnections: z.number().int().min(1).optional(),
      connectTimeout: IstioDurationSchema.optional(),
    })
    .optional(),
  http: z
    .looseObject({
      http1MaxPendingRequests: z.number().int().min(1).optional(),
      http2MaxRequests: z.number().int().min(1).optional(),
      maxRequestsPerConnection: z.number().int().min(0).optional(),
      maxRetries: z.number().int().min(0).optional(),
      idleTimeout: IstioDurationSchema.optional(),
      maxConcurrentStreams: z.number().int().min(1).optional(),
      h2UpgradePolicy: z.enum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']).optional(),
    })
    .optional(),
});

const Percent0to100 = z.number().int().min(0, 'must be within 0..100').max(100, 'must be within 0..100');

const OutlierDetectionSchema = z.looseObject({
  consecutive5xxErrors: z.number().int().min(0).optional(),
  consecutiveGatewayErrors: z.number().int().min(0).optional(),
  consecutiveErrors: z.number().int().min(0).optional(),
  interval: IstioDurationSchema.optional(),
  baseEjectionTime: IstioDurationSchema.optional(),
  maxEjectionPercent: Percent0to100.optional(),
  minHealthPercent: Percent0to100.optional(),
});

export const IstioTrafficPolicySchema = z.looseObject({
  loadBalancer: LoadBalancerSchema.optional(),
  connectionPool: ConnectionPoolSchema.optional(),
  outlierDetection: OutlierDetectionSchema.optional(),
});
export type IstioTrafficPolicy = z.infer<typeof IstioTrafficPolicySchema>;
export type IstioLoadBalancer = z.infer<typeof LoadBalancerSchema>;
export type IstioConnectionPool = z.infer<typeof ConnectionPoolSchema>;
export type IstioOutlierDetection = z.infer<typeof OutlierDetectionSchema>;

const SubsetSchema = z.looseObject({
  name: z.string().min(1, 'subset name is required'),
  labels: z.record(z.string(), z.string()).optional(),
  trafficPolicy: IstioTrafficPolicySchema.optional(),
});
export type IstioSubset = z.infer<typeof SubsetSchema>;

export const IstioDestinationRuleSpecSchema = z
  .looseObject({
    host: z.string().min(1, 'host is required'),
    trafficPolicy: IstioTrafficPolicySchema.optional(),
    subsets: z.array(SubsetSchema).optional(),
  })
  .superRefine((dr, ctx) => {
    const seen = new Set<string>();
    dr.subsets?.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['subsets', i, 'name'], message: `duplicate subset "${s.name}"` });
      seen.add(s.name);
    });
  });
export type IstioDestinationRuleSpec = z.infer<typeof IstioDestinationRuleSpecSchema>;
