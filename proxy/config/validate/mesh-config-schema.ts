// zod schema of the Meshlet model (proxy/config/model). This is what a proxy
// runs on a snapshot decoded from the wire before applying it. Unknown
// fields are stripped rather than refused, so a newer control plane can add
// optional fields without older proxies NACKing the whole snapshot.

import { z } from 'zod';
import type { MeshConfig } from '../model/index.js';

const nonNegInt = z.number().int().min(0);
const ms = z.number().min(0);
const port = z.number().int().min(1).max(65535);
const percent = z.number().min(0, 'must be within 0..100').max(100, 'must be within 0..100');
const status = z.number().int().min(200, 'must be within 200..599').max(599, 'must be within 200..599');

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

const StringMatchSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('exact'), value: z.string() }),
  z.object({ kind: z.literal('prefix'), value: z.string() }),
  z.object({ kind: z.literal('regex'), value: z.string().refine(compiles, { message: 'regex does not compile' }) }),
]);

const HeaderOpsSchema = z.object({
  set: z.record(z.string(), z.string()).optional(),
  add: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional(),
});
const HeadersSchema = z.object({ request: HeaderOpsSchema.optional(), response: HeaderOpsSchema.optional() });

const RouteMatchSchema = z.object({
  uri: StringMatchSchema.optional(),
  authority: StringMatchSchema.optional(),
  method: StringMatchSchema.optional(),
  headers: z.record(z.string(), StringMatchSchema).optional(),
  withoutHeaders: z.record(z.string(), z.union([StringMatchSchema, z.object({ kind: z.literal('present') })])).optional(),
  queryParams: z.record(z.string(), StringMatchSchema).optional(),
  ignoreUriCase: z.boolean().optional(),
  port: port.optional(),
});

const WeightedDestinationSchema = z.object({
  host: z.string().min(1),
  subset: z.string().min(1).optional(),
  port: port.optional(),
  weight: nonNegInt,
  headers: HeadersSchema.optional(),
});

const RouteActionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('forward'), destinations: z.array(WeightedDestinationSchema).min(1, 'at least one destination is required') }),
  z.object({
    kind: z.literal('redirect'),
    uri: z.string().optional(),
    authority: z.string().optional(),
    scheme: z.string().optional(),
    port: port.optional(),
    status: z.number().int().refine((c) => [301, 302, 303, 307, 308].includes(c), { message: 'must be 301, 302, 303, 307 or 308' }),
  }),
  z.object({ kind: z.literal('direct'), status, body: z.string().optional() }),
]);

const RetryOnSchema = z.enum([
  '5xx', 'gateway-error', 'connect-failure', 'refused-stream', 'reset', 'retriable-4xx',
  'retriable-status-codes', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

const RetryPolicySchema = z.object({
  attempts: nonNegInt,
  perTryTimeoutMs: ms.optional(),
  retryOn: z.array(RetryOnSchema),
  retriableStatusCodes: z.array(z.number().int().min(100).max(599)),
  idempotentOnly5xx: z.boolean(),
  isDefault: z.boolean(),
});

const FaultPolicySchema = z.object({
  delay: z.object({ fixedDelayMs: ms, percent }).optional(),
  abort: z.object({ httpStatus: status.optional(), grpcStatus: z.string().min(1).optional(), percent }).optional(),
  headerControlled: z.boolean().optional(),
  maxActiveFaults: nonNegInt.optional(),
  expiresAt: z.number().optional(),
  placement: z.literal('server').optional(),
  serverLabels: z.record(z.string(), z.string()).optional(),
  experiment: z.string().min(1).optional(),
});

const MirrorPolicySchema = z.object({
  host: z.string().min(1),
  subset: z.string().min(1).optional(),
  port: port.optional(),
  percent,
  shadowSuffix: z.boolean(),
  expiresAt: z.number().optional(),
});

const RouteModelSchema = z.object({
  name: z.string().min(1),
  match: z.array(RouteMatchSchema),
  action: RouteActionSchema,
  headers: HeadersSchema.optional(),
  rewrite: z.object({ uri: z.string().optional(), authority: z.string().optional() }).optional(),
  timeoutMs: ms.optional(),
  retries: RetryPolicySchema.optional(),
  fault: FaultPolicySchema.optional(),
  mirrors: z.array(MirrorPolicySchema).optional(),
  upgrades: z
    .array(
      z
        .string()
        .regex(/^[a-z0-9!#$%&'*+.^_`|~/-]+$/, 'must be a lowercase Upgrade token such as "websocket"')
        .refine((t) => t !== 'h2c', 'h2c cannot be tunnelled: HTTP/2 upgrades are not supported'),
    )
    .optional(),
});

const VirtualHostSchema = z.object({
  name: z.string().min(1),
  domains: z.array(z.string().min(1)).min(1, 'at least one domain is required'),
  routes: z.array(RouteModelSchema),
  source: z.string(),
});

const HashKeySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('header'), name: z.string().min(1) }),
  z.object({ kind: z.literal('cookie'), name: z.string().min(1), path: z.string().optional(), ttlMs: ms.optional() }),
  z.object({ kind: z.literal('source_ip') }),
  z.object({ kind: z.literal('query'), name: z.string().min(1) }),
]);

const LoadBalancerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('round_robin') }),
  z.object({ kind: z.literal('least_request') }),
  z.object({ kind: z.literal('random') }),
  z.object({ kind: z.enum(['ring_hash', 'maglev']), hashKey: HashKeySchema, tableSize: z.number().int().min(1) }),
]);

const ClusterPolicySchema = z.object({
  lb: LoadBalancerSchema,
  connectionPool: z
    .object({
      maxConnections: nonNegInt.optional(),
      connectTimeoutMs: ms.optional(),
      maxPendingRequests: nonNegInt.optional(),
      maxRequests: nonNegInt.optional(),
      maxRequestsPerConnection: nonNegInt.optional(),
      maxRetries: nonNegInt.optional(),
      idleTimeoutMs: ms.optional(),
    })
    .optional(),
  outlierDetection: z
    .object({
      consecutive5xxErrors: nonNegInt,
      consecutiveGatewayErrors: nonNegInt,
      intervalMs: ms,
      baseEjectionTimeMs: ms,
      maxEjectionPercent: percent,
      minHealthPercent: percent,
    })
    .optional(),
});

const EndpointSchema = z.object({
  address: z.string().min(1),
  port,
  labels: z.record(z.string(), z.string()),
  weight: z.number().int().min(1),
});

const ClusterSchema = z.object({
  name: z.string().min(1),
  host: z.string().min(1),
  port,
  subset: z.string().min(1).optional(),
  discovery: z.enum(['static', 'dns']),
  endpoints: z.array(EndpointSchema),
  policy: ClusterPolicySchema,
});

const ServiceSchema = z.object({
  host: z.string().min(1),
  namespace: z.string().min(1),
  ports: z.array(z.object({ number: port, name: z.string(), protocol: z.string(), targetPort: port.optional() })),
  source: z.string(),
});

export const MeshConfigSchema = z.object({
  version: z.string().min(1),
  services: z.array(ServiceSchema),
  clusters: z.array(ClusterSchema),
  virtualHosts: z.array(VirtualHostSchema),
});

// Compile-time proof that whatever the schema accepts is a MeshConfig.
type Parsed = z.infer<typeof MeshConfigSchema>;
const _assignable: (p: Parsed) => MeshConfig = (p) => p;
void _assignable;
