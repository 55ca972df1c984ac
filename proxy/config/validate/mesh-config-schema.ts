// zod schema of the Meshlet model (proxy/config/model). This is what a proxy
// runs on a snapshot decoded from the wire before applying it. Unknown
// fields are stripped rather than refused, so a newer control plane can add
// optional fields without older proxies NACKing the whole snapshot.

import { z } from 'zod';
import { GRPC_STATUS_NAMES, type MeshConfig } from '../model/index.js';
import { checkRe2 } from './re2-pattern.js';
import { AuthorizationPolicyModelSchema } from './authorization-policy-model-schema.js';
import { maglevTableSizeRule, redirectStatusRule, upgradeTypeRule, upstreamTlsRule } from './model-rules.js';

const nonNegInt = z.number().int().min(0);
/** Envoy's limits, so a table or ring never costs seconds to build (see destination-rule-schema.ts). */
const MAX_MAGLEV_TABLE_SIZE = 5_000_011;
const MAX_RING_SIZE = 8_388_608;
const MAX_ENDPOINT_WEIGHT = 65_535;
/** Longer delays would overflow a Node timer and fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;
const ms = z.number().min(0).max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms (the longest timer)`);

const port = z.number().int().min(1).max(65535);
const percent = z.number().min(0, 'must be within 0..100').max(100, 'must be within 0..100');
const status = z.number().int().min(200, 'must be within 200..599').max(599, 'must be within 200..599');

/** Adds the issue a model rule (model-rules.ts) reports, if any. */
function rule<T>(check: (v: T) => string | undefined): (v: T, ctx: z.RefinementCtx) => void {
  return (v, ctx) => {
    const reason = check(v);
    if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
  };
}

/** RE2, within the program-size limit (--max-regex-program-size). */
const Re2 = z.string().superRefine(rule((p: string) => checkRe2(p)));

const StringMatchSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('exact'), value: z.string() }),
  z.object({ kind: z.literal('prefix'), value: z.string() }),
  z.object({ kind: z.literal('regex'), value: Re2 }),
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
  sourceLabels: z.record(z.string(), z.string()).optional(),
  sourceNamespace: z.string().optional(),
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
    status: z.number().int().superRefine(rule(redirectStatusRule)),
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
  abort: z.object({ httpStatus: status.optional(), grpcStatus: z.enum(GRPC_STATUS_NAMES).optional(), percent }).optional(),
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
  rewrite: z
    .object({
      uri: z.string().optional(),
      authority: z.string().optional(),
      uriRegex: z.object({ match: Re2, substitution: z.string() }).optional(),
    })
    .optional(),
  timeoutMs: ms.optional(),
  retries: RetryPolicySchema.optional(),
  fault: FaultPolicySchema.optional(),
  mirrors: z.array(MirrorPolicySchema).optional(),
  upgrades: z
    .array(
      z
        .string()
        .regex(/^[a-z0-9!#$%&'*+.^_`|~/-]+$/, 'must be a lowercase Upgrade token such as "websocket"')
        .superRefine(rule(upgradeTypeRule)),
    )
    .optional(),
});

const VirtualHostSchema = z.object({
  name: z.string().min(1),
  domains: z.array(z.string().min(1)).min(1, 'at least one domain is required'),
  routes: z.array(RouteModelSchema),
  source: z.string(),
  exportTo: z.array(z.string()).optional(),
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
  z.object({ kind: z.literal('ring_hash'), hashKey: HashKeySchema, tableSize: z.number().int().min(1).max(MAX_RING_SIZE, `must be at most ${MAX_RING_SIZE}`) }),
  z.object({
    kind: z.literal('maglev'),
    hashKey: HashKeySchema,
    tableSize: z
      .number()
      .int()
      .max(MAX_MAGLEV_TABLE_SIZE, `must be at most ${MAX_MAGLEV_TABLE_SIZE}`)
      .superRefine(rule((n: number) => maglevTableSizeRule(n, MAX_MAGLEV_TABLE_SIZE))),
  }),
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
      maxConcurrentStreams: nonNegInt.optional(),
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
  retryBudget: z.object({ percent, minRetryConcurrency: nonNegInt }).optional(),
});

export const EndpointSchema = z.object({
  address: z.string().min(1),
  port,
  labels: z.record(z.string(), z.string()),
  weight: z.number().int().min(1).max(MAX_ENDPOINT_WEIGHT, `must be at most ${MAX_ENDPOINT_WEIGHT}`),
  tlsMode: z.literal('istio').optional(),
});

const sanList = z.array(z.string().min(1)).optional();
const UpstreamTlsSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('DISABLE') }),
  z.object({ mode: z.literal('ISTIO_MUTUAL'), sni: z.string().min(1).optional(), subjectAltNames: sanList }),
  z
    .object({
      mode: z.enum(['SIMPLE', 'MUTUAL']),
      sni: z.string().min(1).optional(),
      subjectAltNames: sanList,
      caCertificates: z.string().min(1).optional(),
      clientCertificate: z.string().min(1).optional(),
      privateKey: z.string().min(1).optional(),
      insecureSkipVerify: z.boolean().optional(),
    })
    .superRefine(rule(upstreamTlsRule)),
]);

const MtlsModeSchema = z.enum(['STRICT', 'PERMISSIVE', 'DISABLE']);
const PeerAuthenticationSchema = z.object({
  source: z.string().min(1),
  namespace: z.string().min(1),
  scope: z.enum(['mesh', 'namespace', 'workload']),
  selector: z.record(z.string(), z.string()).optional(),
  mode: MtlsModeSchema.optional(),
  ports: z.record(z.string().regex(/^[1-9][0-9]{0,4}$/, 'must be a port number'), MtlsModeSchema).optional(),
});

const ClusterSchema = z.object({
  name: z.string().min(1),
  host: z.string().min(1),
  port,
  subset: z.string().min(1).optional(),
  discovery: z.enum(['static', 'dns']),
  endpoints: z.array(EndpointSchema),
  policy: ClusterPolicySchema,
  protocol: z.enum(['http1', 'http2', 'downstream']).optional(),
  tls: UpstreamTlsSchema.optional(),
  peerIdentities: z.array(z.string().min(1)).optional(),
});

const ServiceSchema = z.object({
  host: z.string().min(1),
  namespace: z.string().min(1),
  ports: z.array(z.object({ number: port, name: z.string(), protocol: z.string(), targetPort: port.optional() })),
  addresses: z.array(z.string().min(1)).optional(),
  source: z.string(),
  exportTo: z.array(z.string()).optional(),
});

const TlsRouteSchema = z.object({
  name: z.string().min(1),
  sniHosts: z.array(z.string().min(1)).min(1, 'at least one SNI host is required'),
  port: z.number().int().min(0).max(65535),
  destinations: z.array(WeightedDestinationSchema).min(1, 'at least one destination is required'),
  source: z.string(),
});

export const MeshConfigSchema = z.object({
  version: z.string().min(1),
  services: z.array(ServiceSchema),
  clusters: z.array(ClusterSchema),
  virtualHosts: z.array(VirtualHostSchema),
  tlsRoutes: z.array(TlsRouteSchema).optional(),
  outboundTrafficPolicy: z.enum(['ALLOW_ANY', 'REGISTRY_ONLY']).optional(),
  peerAuthentications: z.array(PeerAuthenticationSchema).optional(),
  authorizationPolicies: z.array(AuthorizationPolicyModelSchema).optional(),
});

// Compile-time proof that whatever the schema accepts is a MeshConfig.
type Parsed = z.infer<typeof MeshConfigSchema>;
const _assignable: (p: Parsed) => MeshConfig = (p) => p;
void _assignable;
