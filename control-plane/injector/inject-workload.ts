// Finds the pod template inside a workload object and injects it: Pods,
// Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs.
// Anything else passes through untouched (a Service in the same YAML stream).
import { injectPod, type InjectOutcome, type PodTemplate } from './inject-pod.js';
import type { InjectSettings } from './inject-settings.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController']);

/** Where the pod template sits in this object, or undefined when it has none. */
function templateHolder(obj: Obj): { holder: Obj; key: string } | 'self' | undefined {
  const kind = obj['kind'];
  if (kind === 'Pod') return 'self';
  const spec = obj['spec'];
  if (!isObj(spec)) return undefined;
  if (typeof kind === 'string' && TEMPLATE_KINDS.has(kind)) return isObj(spec['template']) ? { holder: spec, key: 'template' } : undefined;
  if (kind === 'CronJob') {
    const jt = spec['jobTemplate'];
    const jspec = isObj(jt) ? jt['spec'] : undefined;
    return isObj(jspec) && isObj(jspec['template']) ? { holder: jspec, key: 'template' } : undefined;
  }
  return undefined;
}

export type WorkloadOutcome = InjectOutcome | { readonly kind: 'not-a-workload' };

/** Returns a new object (the input is never changed). */
export function injectWorkload(obj: unknown, settings: InjectSettings): WorkloadOutcome & { readonly object?: unknown } {
  if (!isObj(obj)) return { kind: 'not-a-workload' };
  const where = templateHolder(obj);
  if (where === undefined) return { kind: 'not-a-workload' };
  const meta = isObj(obj['metadata']) ? obj['metadata'] : {};
  const name = typeof meta['name'] === 'string' ? meta['name'] : undefined;
  if (where === 'self') {
    const outcome = injectPod(obj as PodTemplate, settings, name);
    return outcome.kind === 'injected' ? { ...outcome, object: { ...obj, ...outcome.template } } : outcome;
  }
  const outcome = injectPod(where.holder[where.key] as PodTemplate, settings, name);
  if (outcome.kind !== 'injected') return outcome;
  const copy = structuredClone(obj);
  const again = templateHolder(copy);
  if (again === undefined || again === 'self') return { kind: 'not-a-workload' };
  again.holder[again.key] = outcome.template;
  return { ...outcome, object: copy };
}
