// networking.istio.io VirtualService, HTTP routes only. `tcp`, `tls`,
// `gateways`, `exportTo` and `corsPolicy` are accepted and ignored; checks
// that need other resources (declared hosts, subsets) happen in translate.

import { z } from 'zod';
import { GRPC_STATUS_NAMES } from '../model/index.js';
import {
  HTTP_STATUS,
  IstioDurationSchema,
  IstioHeadersSchema,
  IstioPercentSchema,
  IstioPortSelectorSchema,
  IstioStringMatchSchema,
} from './istio-common-schema.js';

const DestinationSchema = z.looseObject({
  host: z.string().min(1, 'destination host is required'),
  subset: z.string().min(1).optional(),
  port: IstioPortSelectorSchema.optional(),
});
export type IstioDestination = z.infer<typeof DestinationSchema>;

const RouteDestinationSchema = z.looseObject({
  destination: DestinationSchema,
  weight: z.number().int().min(0, 'weight must be within 0..100').max(100, 'weight must be within 0..100').optional(),
  headers: IstioHeadersSchema.optional(),
});

const MatchSchema = z.looseObject({
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
});
export type IstioHTTPMatchRequest = z.infer<typeof MatchSchema>;

const RedirectSchema = z.looseObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  scheme: z.string().optional(),
  redirectCode: z
    .number()
    .int()
    .refine((c) => [301, 302, 303, 307, 308].includes(c), { message: 'redirectCode must be 301, 302, 303, 307 or 308' })
    .optional(),
});

const DirectResponseSchema = z.looseObject({
  status: HTTP_STATUS,
  body: z.looseObject({ string: z.string().optional(), bytes: z.string().optional() }).optional(),
});

const RetriesSchema = z.looseObject({
  attempts: z.number().int().min(0).optional(),
  perTryTimeout: IstioDurationSchema.optional(),
  retryOn: z.string().optional(),
});
export type IstioHTTPRetry = z.infer<typeof RetriesSchema>;

const DeprecatedPercent = z.number().int().min(0, 'percent must be within 0..100').max(100, 'percent must be within 0..100');

const FaultSchema = z.looseObject({
  delay: z
    .looseObject({
      fixedDelay: IstioDurationSchema.optional(),
      percentage: IstioPercentSchema.optional(),
      percent: DeprecatedPercent.optional(),
    })
    .refine((d) => d.fixedDelay !== undefined, { message: 'delay needs fixedDelay (exponentialDelay is not supported)' })
    .optional(),
  abort: z
    .looseObject({
      httpStatus: HTTP_STATUS.optional(),
      // Istio: the status name in capitals (`UNAVAILABLE`), not its number.
      grpcStatus: z.enum(GRPC_STATUS_NAMES, { message: `must be a gRPC status name (${GRPC_STATUS_NAMES.join(', ')})` }).optional(),
      percentage: IstioPercentSchema.optional(),
    })
    .refine((a) => (a.httpStatus === undefined) !== (a.grpcStatus === undefined), {
      message: 'abort needs exactly one of httpStatus, grpcStatus',
    })
    .optional(),
});
export type IstioHTTPFaultInjection = z.infer<typeof FaultSchema>;

const HTTPRouteSchema = z
  .looseObject({
    name: z.string().min(1).optional(),
    match: z.array(MatchSchema).optional(),
    route: z.array(RouteDestinationSchema).optional(),
    redirect: RedirectSchema.optional(),
    directResponse: DirectResponseSchema.optional(),
    delegate: z.unknown().optional(),
    rewrite: z.looseObject({ uri: z.string().optional(), authority: z.string().optional() }).optional(),
    timeout: IstioDurationSchema.optional(),
    retries: RetriesSchema.optional(),
    fault: FaultSchema.optional(),
    mirror: DestinationSchema.optional(),
    mirrorPercentage: IstioPercentSchema.optional(),
    mirrorPercent: DeprecatedPercent.optional(),
    mirrors: z
      .array(z.looseObject({ destination: DestinationSchema, percentage: IstioPercentSchema.optional() }))
      .optional(),
    headers: IstioHeadersSchema.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.delegate !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['delegate'], message: 'delegate VirtualServices are not supported' });
    }
    const actions = [r.route !== undefined && r.route.length > 0, r.redirect !== undefined, r.directResponse !== undefined];
    const n = actions.filter(Boolean).length;
    if (n === 0 && r.delegate === undefined) ctx.addIssue({ code: 'custom', message: 'route needs one of route, redirect, directResponse' });
    if (n > 1) ctx.addIssue({ code: 'custom', message: 'route, redirect and directResponse are exclusive' });
    if (r.route !== undefined && r.route.length > 1) {
      const sum = r.route.reduce((acc, d) => acc + (d.weight ?? 0), 0);
      if (sum !== 100) {
        ctx.addIssue({ code: 'custom', path: ['route'], message: `weights of the destinations must sum to 100 (got ${sum})` });
      }
    }
  });
export type IstioHTTPRoute = z.infer<typeof HTTPRouteSchema>;

export const IstioVirtualServiceSpecSchema = z.looseObject({
  hosts: z.array(z.string().min(1)).min(1, 'at least one host is required'),
  http: z.array(HTTPRouteSchema).optional(),
});
export type IstioVirtualServiceSpec = z.infer<typeof IstioVirtualServiceSpecSchema>;
