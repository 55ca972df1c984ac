// admission.k8s.io/v1 AdmissionReview → response with a JSONPatch. The patch
// is computed by fast-json-patch (compare) from the pod and its injected form,
// then checked by applying it (fast-json-patch, validating) to a copy of the
// pod: a patch that would not reproduce the injected pod is never sent.
import fastJsonPatch from 'fast-json-patch';
import { isDeepStrictEqual } from 'node:util';
import { injectPod, wantsInjection, type PodTemplate } from './inject-pod.js';
import type { InjectSettings } from './inject-settings.js';

const { applyPatch, compare } = fastJsonPatch;

export interface AdmissionContext {
  readonly settings: InjectSettings;
  /** Labels of a namespace (informer cache, else an API read); undefined when unknown. */
  readonly namespaceLabels: (namespace: string) => Promise<Readonly<Record<string, string>> | undefined>;
  readonly log?: (level: 'info' | 'warn', msg: string) => void;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly patchType?: 'JSONPatch';
  readonly patch?: string;
  readonly status?: { readonly code: number; readonly message: string };
  readonly warnings?: readonly string[];
}

export interface AdmissionReviewReply {
  readonly apiVersion: 'admission.k8s.io/v1';
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

/** Thrown for a body that is not an AdmissionReview (the server answers 400). */
export class BadAdmissionReview extends Error {}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function reviewAdmission(body: unknown, ctx: AdmissionContext): Promise<AdmissionReviewReply> {
  if (!isObj(body) || body['kind'] !== 'AdmissionReview' || !isObj(body['request'])) throw new BadAdmissionReview('expected an AdmissionReview with a request');
  if (body['apiVersion'] !== 'admission.k8s.io/v1') throw new BadAdmissionReview(`unsupported apiVersion ${String(body['apiVersion'])} (admission.k8s.io/v1 only)`);
  const req = body['request'];
  const uid = typeof req['uid'] === 'string' ? req['uid'] : '';
  if (uid === '') throw new BadAdmissionReview('request.uid is required');
  const reply = (response: Omit<AdmissionResponse, 'uid'>): AdmissionReviewReply => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, ...response } });
  const kind = isObj(req['kind']) ? req['kind']['kind'] : undefined;
  const pod = req['object'];
  if (kind !== 'Pod' || !isObj(pod) || (req['operation'] !== undefined && req['operation'] !== 'CREATE')) {
    return reply({ allowed: true, warnings: ['meshlet injector: only Pod CREATE is injected; passed through'] });
  }
  const namespace = typeof req['namespace'] === 'string' ? req['namespace'] : isObj(pod['metadata']) && typeof pod['metadata']['namespace'] === 'string' ? pod['metadata']['namespace'] : 'default';
  const template = pod as PodTemplate;
  const decision = wantsInjection(await ctx.namespaceLabels(namespace), template);
  if (!decision.inject) return reply({ allowed: true });
  const owner = template.metadata?.ownerReferences?.[0]?.name;
  const outcome = injectPod(template, ctx.settings, owner ?? template.metadata?.generateName?.replace(/-$/, '') ?? template.metadata?.name);
  if (outcome.kind === 'invalid') return reply({ allowed: false, status: { code: 400, message: `meshlet injector: ${outcome.reason}` } });
  if (outcome.kind === 'skipped') return reply({ allowed: true });
  const ops = compare(pod, outcome.template as Record<string, unknown>);
  const check = applyPatch(structuredClone(pod), structuredClone(ops), true, false).newDocument;
  if (!isDeepStrictEqual(check, outcome.template)) {
    ctx.log?.('warn', `injector: patch for ${namespace}/${template.metadata?.name ?? template.metadata?.generateName ?? '?'} did not reproduce the injected pod; refusing`);
    return reply({ allowed: false, status: { code: 500, message: 'meshlet injector: internal error building the patch' } });
  }
  return reply({ allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') });
}
