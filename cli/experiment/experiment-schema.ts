// The experiment file (`meshlet experiment run FILE`): YAML validated with a
// strict zod schema, so a typo is an error naming the field, never ignored.
// Durations are Istio-style ("500ms", "10s", "1m").
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../../proxy/config/istio/index.js';
import { ConnectionPoolSchema, OutlierDetectionSchema, RetryBudgetSchema } from '../../proxy/config/istio/destination-rule-schema.js';

const duration = z.string().refine((s) => parseDuration(s) !== undefined, { message: 'must be a duration such as 500ms, 10s or 1m' });
const percentage = z.number().min(0).max(100);
const fraction = z.number().min(0).max(1);
const hostPort = z.string().regex(/^[^\s:]+:\d+$/, 'must be HOST:PORT');
const stringMatch = z.strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() });

/** The DestinationRule-level part of a policy: Istio's own field schemas, strict. */
const RulePolicySchema = z
  .strictObject({
    connectionPool: ConnectionPoolSchema.optional(),
    outlierDetection: OutlierDetectionSchema.optional(),
    retryBudget: RetryBudgetSchema.optional(),
  })
  .refine((t) => t.connectionPool !== undefined || t.outlierDetection !== undefined || t.retryBudget !== undefined, { message: 'needs connectionPool, outlierDetection or retryBudget' });

const MatchSchema = z.strictObject({
  headers: z.record(z.string(), stringMatch).optional(),
  uri: stringMatch.optional(),
  method: stringMatch.optional(),
});

const SpecSchema = z.strictObject({
  target: z.strictObject({
    host: z.string().min(1),
    /** A DestinationRule subset: only its pods fail (server placement). */
    subset: z.string().min(1).optional(),
    /** Pod labels (a sidecar's --labels): only those pods fail, e.g. one bad pod (server placement). */
    labels: z.record(z.string().regex(/^[A-Za-z0-9_./-]+$/, 'must be a label key'), z.string().regex(/^[A-Za-z0-9_.-]*$/, 'must be a label value')).optional(),
    /** Narrows the fault to matching requests (OR across entries). */
    match: z.array(MatchSchema).optional(),
    /** `server`: the destination's inbound sidecar fails the call, so caller retries and outlier detection react (default when a subset is given). */
    placement: z.enum(['client', 'server']).optional(),
  }),
  fault: z
    .strictObject({
      delay: z.strictObject({ fixedDelay: duration, percentage: percentage.default(100) }).optional(),
      abort: z.strictObject({ httpStatus: z.number().int().min(200).max(599), percentage: percentage.default(100) }).optional(),
      /** A network fault with iptables in the target's network namespace (needs root / CAP_NET_ADMIN there). */
      network: z
        .strictObject({
          /** Where: a named network namespace (`ip netns`, e.g. a pod-rig pod), or a process's (a container's pid); neither = this host. */
          netns: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be an ip-netns name').optional(),
          pid: z.number().int().positive().optional(),
          /** Inbound TCP ports kill/drop apply to (original destination port); default every port but the sidecar's admin/metrics ports. */
          ports: z.array(z.number().int().min(1).max(65535)).min(1).max(15).optional(),
          /** The endpoint is down: connections to it are reset, open ones cut. */
          kill: z.boolean().optional(),
          /** This share of inbound packets is dropped at random. */
          drop: z.strictObject({ percentage: z.number().gt(0).max(100) }).optional(),
          /** No packet passes between the target and these peers (IP or CIDR), either way. */
          partition: z.strictObject({ peers: z.array(z.string().regex(/^[0-9a-fA-F.:]+(\/\d{1,3})?$/, 'must be an IP or CIDR')).min(1).max(32) }).optional(),
        })
        .refine((n) => n.kill === true || n.drop !== undefined || n.partition !== undefined, { message: 'needs kill: true, drop or partition' })
        .refine((n) => n.netns === undefined || n.pid === undefined, { message: 'netns or pid, not both' })
        .optional(),
    })
    .refine((f) => f.delay !== undefined || f.abort !== undefined || f.network !== undefined, { message: 'needs a delay, an abort or a network fault' }),
  load: z
    .strictObject({
      /** The sidecar's outbound listener the load goes through. */
      via: hostPort,
      host: z.string().min(1),
      path: z.string().startsWith('/').default('/'),
      rate: z.number().positive().max(5000),
      method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE']).default('GET'),
      headers: z.record(z.string(), z.string()).optional(),
      /** A request slower than this counts as failed (client timeout). */
      timeout: duration.default('10s'),
      /** A 2xx whose body contains this still failed (Bookinfo answers 200 with a peer's error inside). */
      failIfBodyContains: z.string().min(1).optional(),
    })
    .optional(),
  observe: z
    .strictObject({
      /** Sidecar metrics endpoints (HOST:PORT of --metrics-port) scraped every second: retries, ejections, and the request figures when there is no `load`. */
      metrics: z.array(hostPort).min(1).optional(),
      /** Or a Prometheus server that scrapes the sidecars (base URL, e.g. http://prometheus:9090): the same figures through its HTTP API. */
      prometheus: z.url({ protocol: /^https?$/ }).optional(),
      /** Without `load`: which destination's traffic to measure (istio_requests_total destination_service_name); default target.host. */
      service: z.string().min(1).optional(),
    })
    .refine((o) => (o.metrics !== undefined) !== (o.prometheus !== undefined), { message: 'needs metrics (sidecar metrics ports) or prometheus (a URL), one of the two' })
    .optional(),
  /**
   * The resilience policy under test, laid over the target host's routes for
   * the whole run (all three phases), replacing the routes' own: what
   * `compare` varies between two runs of the same fault.
   */
  policy: z
    .strictObject({
      retries: z.strictObject({ attempts: z.number().int().min(0).max(20), perTryTimeout: duration.optional(), retryOn: z.string().min(1).optional() }).optional(),
      timeout: duration.optional(),
      /** DestinationRule settings for the target host, every subset included (circuit breaking, outlier detection, retry budget). */
      trafficPolicy: RulePolicySchema.optional(),
      /** The same for one subset of the host's DestinationRule only. */
      subsets: z.array(z.strictObject({ name: z.string().min(1), trafficPolicy: RulePolicySchema })).min(1).optional(),
    })
    .refine((p) => p.retries !== undefined || p.timeout !== undefined || p.trafficPolicy !== undefined || p.subsets !== undefined, { message: 'needs retries, timeout, trafficPolicy or subsets' })
    .optional(),
  phases: z.strictObject({ baseline: duration, inject: duration, recover: duration }),
  hypothesis: z.strictObject({
    successRate: z.strictObject({ min: fraction }).optional(),
    latencyP99: z.strictObject({ max: duration }).optional(),
    /** Retries (counted by the `observe` sidecars) per request of the phase: how much a failure multiplies the load on its service. */
    retriesPerRequest: z.strictObject({ max: z.number().min(0) }).optional(),
    /** false: the steady state need not hold while the fault is in (it must come back in recover). */
    during: z.boolean().default(true),
  }),
  abortWhen: z
    .strictObject({
      successRate: z.strictObject({ below: fraction }).optional(),
      latencyP99: z.strictObject({ above: duration }).optional(),
    })
    .optional(),
});

export const ExperimentSchema = z
  .strictObject({
    apiVersion: z.literal('meshlet.io/v1alpha1'),
    kind: z.literal('Experiment'),
    metadata: z.strictObject({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label'), description: z.string().optional() }),
    spec: SpecSchema,
  })
  .refine((e) => e.spec.load !== undefined || e.spec.observe !== undefined, { message: 'spec needs `load` (built-in load) or `observe` (measure real traffic)', path: ['spec'] })
  .refine((e) => !((e.spec.target.subset !== undefined || e.spec.target.labels !== undefined) && e.spec.target.placement === 'client'), {
    message: 'a subset or pod labels can only be targeted with placement: server (a client-side fault cannot tell pods apart)',
    path: ['spec', 'target', 'placement'],
  });

export type Experiment = z.infer<typeof ExperimentSchema>;

/** Whether the fault (or the policy) needs an overlay VirtualService, i.e. a control plane or config directory. */
export function needsOverlay(e: Experiment): boolean {
  return e.spec.fault.delay !== undefined || e.spec.fault.abort !== undefined || e.spec.policy !== undefined;
}

export function ms(d: string): number {
  return parseDuration(d) ?? 0;
}

/** Where the fault is applied: server when a subset or pod labels are targeted, unless said otherwise. */
export function placementOf(e: Experiment): 'client' | 'server' {
  const t = e.spec.target;
  return t.placement ?? (t.subset !== undefined || t.labels !== undefined ? 'server' : 'client');
}

export type LoadResult = { ok: true; experiment: Experiment } | { ok: false; errors: string[] };

export function parseExperiment(text: string, file: string): LoadResult {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, errors: [`${file}: YAML: ${(err as Error).message}`] };
  }
  const r = ExperimentSchema.safeParse(doc);
  if (r.success) return { ok: true, experiment: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`) };
}

export async function loadExperiment(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, errors: [`${file}: ${(err as Error).message}`] };
  }
  return parseExperiment(text, file);
}
