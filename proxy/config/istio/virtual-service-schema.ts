// networking.istio.io VirtualService, every field of Istio's API. HTTP and
// tls (SNI passthrough) routes are applied; what is declared but not applied
// (tcp routes, corsPolicy, ...) is warned about or refused by field-support.ts.
// Checks that need other resources (declared hosts, subsets) happen in translate.

import { z } from 'zod';
import { GRPC_STATUS_NAMES } from '../model/index.js';
import {
  declared,
  HTTP_STATUS,
  IstioDurationSchema,
  IstioHeadersSchema,
  IstioPercentSchema,
  IstioPortSelectorSchema,
  IstioRegexSchema,
  IstioStringMatchSchema,
} from './istio-common-schema.js';

const DestinationSchema = z.strictObject({
  host: z.string().min(1, 'destination host is required'),
  subset: z.string().min(1).optional(),
  port: IstioPortSelectorSchema.optional(),
});
export type IstioDestination = z.infer<typeof DestinationSchema>;

const RouteDestinationSchema = z.strictObject({
  destination: DestinationSchema,
  weight: z.number().int().min(0, 'weight must be >= 0').optional(),
  headers: IstioHeadersSchema.optional(),
});

const MatchSchema = z.strictObject({
  name: z.string().optional(),
  uri: IstioStringMatchSchema.optional(),
  scheme: IstioStringMatchSchema.optional(),
  method: IstioStringMatchSchema.optional(),
  authority: IstioStringMatchSchema.optional(),
  headers: z.record(z.string(), IstioStringMatchSchema).optional(),
  withoutHeaders: z.record(z.string(), IstioStringMatchSchema).optional(),
  queryParams: z.record(z.string(), IstioStringMatchSchema).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  ignoreUriCase: z.boolean().optional(),
  sourceLabels: z.record(z.string(), z.string()).optional(),
  sourceNamespace: z.string().optional(),
  gateways: z.array(z.string()).optional(),
  statPrefix: declared,
});
export type IstioHTTPMatchRequest = z.infer<typeof MatchSchema>;

const RedirectSchema = z.strictObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  scheme: z.string().optional(),
  redirectCode: z
    .number()
    .int()
    .refine((c) => [301, 302, 303, 307, 308].includes(c), { message: 'redirectCode must be 301, 302, 303, 307 or 308' })
    .optional(),
  derivePort: declared,
  prefixRewrite: declared,
});

const DirectResponseSchema = z.strictObject({
  status: HTTP_STATUS,
  body: z.strictObject({ string: z.string().optional(), bytes: z.string().optional() }).optional(),
});

const RetriesSchema = z.strictObject({
  attempts: z.number().int().min(0).optional(),
  perTryTimeout: IstioDurationSchema.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: declared,
  retryIgnorePreviousHosts: z.boolean().optional(),
  backoff: declared,
});
export type IstioHTTPRetry = z.infer<typeof RetriesSchema>;

const DeprecatedPercent = z.number().int().min(0, 'percent must be within 0..100').max(100, 'percent must be within 0..100');

const FaultSchema = z.strictObject({
  delay: z
    .strictObject({
      fixedDelay: IstioDurationSchema.optional(),
      exponentialDelay: declared,
      percentage: IstioPercentSchema.optional(),
      percent: DeprecatedPercent.optional(),
    })
    .refine((d) => d.fixedDelay !== undefined || d.exponentialDelay !== undefined, { message: 'delay needs fixedDelay' })
    .optional(),
  abort: z
    .strictObject({
      httpStatus: HTTP_STATUS.optional(),
      // Istio: the status name in capitals (`UNAVAILABLE`), not its number.
      grpcStatus: z.enum(GRPC_STATUS_NAMES, { message: `must be a gRPC status name (${GRPC_STATUS_NAMES.join(', ')})` }).optional(),
      http2Error: declared,
      percentage: IstioPercentSchema.optional(),
    })
    .refine((a) => [a.httpStatus, a.grpcStatus, a.http2Error].filter((v) => v !== undefined).length === 1, {
      message: 'abort needs exactly one of httpStatus, grpcStatus, http2Error',
    })
    .optional(),
});
export type IstioHTTPFaultInjection = z.infer<typeof FaultSchema>;

const RewriteSchema = z
  .strictObject({
    uri: z.string().optional(),
    authority: z.string().optional(),
    uriRegexRewrite: z.strictObject({ match: IstioRegexSchema, rewrite: z.string() }).optional(),
  })
  .refine((r) => r.uri === undefined || r.uriRegexRewrite === undefined, { message: 'uri and uriRegexRewrite are exclusive' });

const HTTPRouteSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    match: z.array(MatchSchema).optional(),
    route: z.array(RouteDestinationSchema).optional(),
    redirect: RedirectSchema.optional(),
    directResponse: DirectResponseSchema.optional(),
    delegate: declared,
    rewrite: RewriteSchema.optional(),
    timeout: IstioDurationSchema.optional(),
    retries: RetriesSchema.optional(),
    fault: FaultSchema.optional(),
    mirror: DestinationSchema.optional(),
    mirrorPercentage: IstioPercentSchema.optional(),
    mirrorPercent: DeprecatedPercent.optional(),
    mirrors: z
      .array(z.strictObject({ destination: DestinationSchema, percentage: IstioPercentSchema.optional() }))
      .optional(),
    corsPolicy: declared,
    headers: IstioHeadersSchema.optional(),
  })
  .superRefine((r, ctx) => {
    const actions = [r.route !== undefined && r.route.length > 0, r.redirect !== undefined, r.directResponse !== undefined];
    const n = actions.filter(Boolean).length;
    if (n === 0 && r.delegate === undefined) ctx.addIssue({ code: 'custom', message: 'route needs one of route, redirect, directResponse' });
    if (n > 1) ctx.addIssue({ code: 'custom', message: 'route, redirect and directResponse are exclusive' });
    // Istio: each destination gets weight/sum; zero-weight ones are left out,
    // so several destinations that all weigh 0 leave nothing to send to.
    if (r.route !== undefined && r.route.length > 1 && r.route.every((d) => (d.weight ?? 0) === 0)) {
      ctx.addIssue({ code: 'custom', path: ['route'], message: 'the weights of the destinations sum to 0' });
    }
  });
export type IstioHTTPRoute = z.infer<typeof HTTPRouteSchema>;

const TLSMatchSchema = z.strictObject({
  sniHosts: z.array(z.string().min(1)).min(1, 'at least one SNI host is required'),
  port: z.number().int().min(1).max(65535).optional(),
});

const TLSRouteSchema = z
  .strictObject({
    match: z.array(TLSMatchSchema).min(1, 'a tls route needs at least one match'),
    route: z.array(RouteDestinationSchema).min(1, 'a tls route needs at least one destination'),
  })
  .superRefine((r, ctx) => {
    if (r.route.length > 1) {
      const sum = r.route.reduce((acc, d) => acc + (d.weight ?? 0), 0);
      if (sum !== 100) ctx.addIssue({ code: 'custom', path: ['route'], message: `weights of the destinations must sum to 100 (got ${sum})` });
    }
  });
export type IstioTLSRoute = z.infer<typeof TLSRouteSchema>;

export const IstioVirtualServiceSpecSchema = z.strictObject({
  hosts: z.array(z.string().min(1)).min(1, 'at least one host is required'),
  gateways: z.array(z.string()).optional(),
  http: z.array(HTTPRouteSchema).optional(),
  tls: z.array(TLSRouteSchema).optional(),
  tcp: declared,
  exportTo: z.array(z.string()).optional(),
});
export type IstioVirtualServiceSpec = z.infer<typeof IstioVirtualServiceSpecSchema>;
