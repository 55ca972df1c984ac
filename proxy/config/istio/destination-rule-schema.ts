// networking.istio.io DestinationRule, every field of Istio's API: per-host
// load balancing, connection pool limits, outlier detection, per-port
// overrides and named subsets (label selectors). What is declared but not
// applied (localityLbSetting, warmup, tunnel, tls.credentialName, ...) is warned about or
// refused by field-support.ts. Size limits follow Envoy's so that a table or
// ring never costs seconds (or gigabytes) to build.

import { z } from 'zod';
import { declared, IstioDurationSchema } from './istio-common-schema.js';

/** Envoy's largest Maglev table (a prime). */
export const MAX_MAGLEV_TABLE_SIZE = 5_000_011;
/** Envoy's `maximum_ring_size` default and the cap of `minimum_ring_size`. */
export const MAX_RING_SIZE = 8_388_608;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

const CookieSchema = z.strictObject({
  name: z.string().min(1),
  path: z.string().optional(),
  ttl: IstioDurationSchema.optional(),
  attributes: declared,
});

const RingSize = z.number().int().min(1).max(MAX_RING_SIZE, `must be at most ${MAX_RING_SIZE} (Envoy's maximum ring size)`);

const ConsistentHashSchema = z
  .strictObject({
    httpHeaderName: z.string().min(1).optional(),
    httpCookie: CookieSchema.optional(),
    useSourceIp: z.boolean().optional(),
    httpQueryParameterName: z.string().min(1).optional(),
    ringHash: z.strictObject({ minimumRingSize: RingSize.optional() }).optional(),
    maglev: z
      .strictObject({
        tableSize: z
          .number()
          .int()
          .max(MAX_MAGLEV_TABLE_SIZE, `must be at most ${MAX_MAGLEV_TABLE_SIZE} (Envoy's largest Maglev table)`)
          .refine((n) => n > MAX_MAGLEV_TABLE_SIZE || isPrime(n), { message: 'must be a prime number (Maglev needs a prime table size, e.g. 65537)' })
          .optional(),
      })
      .optional(),
    minimumRingSize: RingSize.optional(),
  })
  .superRefine((h, ctx) => {
    const keys = [h.httpHeaderName, h.httpCookie, h.useSourceIp === true ? true : undefined, h.httpQueryParameterName];
    const n = keys.filter((k) => k !== undefined).length;
    if (n === 0) ctx.addIssue({ code: 'custom', message: 'consistentHash needs one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName' });
    if (n > 1) ctx.addIssue({ code: 'custom', message: 'consistentHash takes only one hash key' });
    if (h.ringHash !== undefined && h.maglev !== undefined) ctx.addIssue({ code: 'custom', message: 'ringHash and maglev are exclusive' });
  });

const LoadBalancerSchema = z
  .strictObject({
    simple: z.enum(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']).optional(),
    consistentHash: ConsistentHashSchema.optional(),
    localityLbSetting: declared,
    zoneAwareLbSetting: declared,
    warmupDurationSecs: declared,
    warmup: declared,
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

export const ConnectionPoolSchema = z.strictObject({
  tcp: z
    .strictObject({
      maxConnections: z.number().int().min(1).optional(),
      connectTimeout: IstioDurationSchema.optional(),
      tcpKeepalive: declared,
      maxConnectionDuration: declared,
      idleTimeout: declared,
    })
    .optional(),
  http: z
    .strictObject({
      http1MaxPendingRequests: z.number().int().min(1).optional(),
      http2MaxRequests: z.number().int().min(1).optional(),
      maxRequestsPerConnection: z.number().int().min(0).optional(),
      maxRetries: z.number().int().min(0).optional(),
      idleTimeout: IstioDurationSchema.optional(),
      maxConcurrentStreams: z.number().int().min(1).optional(),
      h2UpgradePolicy: z.enum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']).optional(),
      useClientProtocol: declared,
      http2KeepAlive: declared,
    })
    .optional(),
});

const Percent0to100 = z.number().int().min(0, 'must be within 0..100').max(100, 'must be within 0..100');

export const OutlierDetectionSchema = z.strictObject({
  consecutive5xxErrors: z.number().int().min(0).optional(),
  consecutiveGatewayErrors: z.number().int().min(0).optional(),
  consecutiveErrors: z.number().int().min(0).optional(),
  interval: IstioDurationSchema.optional(),
  baseEjectionTime: IstioDurationSchema.optional(),
  maxEjectionPercent: Percent0to100.optional(),
  minHealthPercent: Percent0to100.optional(),
  splitExternalLocalOriginErrors: declared,
  consecutiveLocalOriginFailures: declared,
  outlierDetectionHttpErrorCodes: declared,
});

/** Istio ClientTLSSettings, with Istio's validation rules (security.ValidateClientTLSSettings). */
const ClientTlsSchema = z
  .strictObject({
    mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).optional(),
    clientCertificate: z.string().min(1).optional(),
    privateKey: z.string().min(1).optional(),
    caCertificates: z.string().min(1).optional(),
    credentialName: declared,
    subjectAltNames: z.array(z.string().min(1)).optional(),
    sni: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().optional(),
    caCrl: declared,
  })
  .superRefine((t, ctx) => {
    if (t.mode === 'ISTIO_MUTUAL') {
      for (const f of ['clientCertificate', 'privateKey', 'caCertificates'] as const) {
        if (t[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: 'cannot be set with mode ISTIO_MUTUAL (the workload certificate and the mesh root are used)' });
      }
    }
    if (t.mode === 'MUTUAL' && t.credentialName === undefined) {
      if (t.clientCertificate === undefined) ctx.addIssue({ code: 'custom', path: ['clientCertificate'], message: 'client certificate required for mutual tls' });
      if (t.privateKey === undefined) ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'private key required for mutual tls' });
    }
  });
export type IstioClientTls = z.infer<typeof ClientTlsSchema>;

/** Istio 1.26+ `trafficPolicy.retryBudget` (Envoy's circuit-breaker retry_budget). */
export const RetryBudgetSchema = z.strictObject({
  percent: z.number().min(0).max(100).optional(),
  minRetryConcurrency: z.number().int().min(0).max(4_294_967_295).optional(),
  budgetInterval: declared,
});

const PortTrafficPolicySchema = z.strictObject({
  port: z.strictObject({ number: z.number().int().min(1).max(65535) }),
  loadBalancer: LoadBalancerSchema.optional(),
  connectionPool: ConnectionPoolSchema.optional(),
  outlierDetection: OutlierDetectionSchema.optional(),
  tls: ClientTlsSchema.optional(),
});

export const IstioTrafficPolicySchema = z
  .strictObject({
    loadBalancer: LoadBalancerSchema.optional(),
    connectionPool: ConnectionPoolSchema.optional(),
    outlierDetection: OutlierDetectionSchema.optional(),
    portLevelSettings: z.array(PortTrafficPolicySchema).optional(),
    tls: ClientTlsSchema.optional(),
    tunnel: declared,
    proxyProtocol: declared,
    retryBudget: RetryBudgetSchema.optional(),
  })
  .superRefine((tp, ctx) => {
    const seen = new Set<number>();
    tp.portLevelSettings?.forEach((p, i) => {
      if (seen.has(p.port.number)) ctx.addIssue({ code: 'custom', path: ['portLevelSettings', i, 'port', 'number'], message: `duplicate port ${p.port.number}` });
      seen.add(p.port.number);
    });
  });
export type IstioTrafficPolicy = z.infer<typeof IstioTrafficPolicySchema>;
export type IstioPortTrafficPolicy = z.infer<typeof PortTrafficPolicySchema>;
export type IstioLoadBalancer = z.infer<typeof LoadBalancerSchema>;
export type IstioConnectionPool = z.infer<typeof ConnectionPoolSchema>;
export type IstioOutlierDetection = z.infer<typeof OutlierDetectionSchema>;
export type IstioRetryBudget = z.infer<typeof RetryBudgetSchema>;

const SubsetSchema = z.strictObject({
  name: z.string().min(1, 'subset name is required'),
  labels: z.record(z.string(), z.string()).optional(),
  trafficPolicy: IstioTrafficPolicySchema.optional(),
});
export type IstioSubset = z.infer<typeof SubsetSchema>;

export const IstioDestinationRuleSpecSchema = z
  .strictObject({
    host: z.string().min(1, 'host is required'),
    trafficPolicy: IstioTrafficPolicySchema.optional(),
    subsets: z.array(SubsetSchema).optional(),
    exportTo: declared,
    workloadSelector: declared,
  })
  .superRefine((dr, ctx) => {
    const seen = new Set<string>();
    dr.subsets?.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['subsets', i, 'name'], message: `duplicate subset "${s.name}"` });
      seen.add(s.name);
    });
  });
export type IstioDestinationRuleSpec = z.infer<typeof IstioDestinationRuleSpecSchema>;
