// The Istio networking (and security: AuthorizationPolicy) CRDs Meshlet reads, generated from the same zod
// schemas the config loader validates with, so the API server and the loader
// never disagree about shape (semantic checks like regex compilation stay in
// the loader and are reported in `meshlet status`). Names and versions are
// Istio's: served as v1, v1beta1 and v1alpha3, stored as v1.
import { z } from 'zod';
import { IstioAuthorizationPolicySpecSchema, IstioDestinationRuleSpecSchema, IstioServiceEntrySpecSchema, IstioVirtualServiceSpecSchema } from '../../proxy/config/istio/index.js';
import { toStructural } from './structural-schema.js';

interface CrdKind {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly schema: z.ZodType;
  /** Default networking.istio.io, served as v1, v1beta1 and v1alpha3; security.istio.io has no v1alpha3. */
  readonly group?: 'security.istio.io';
}

const KINDS: readonly CrdKind[] = [
  { kind: 'VirtualService', plural: 'virtualservices', shortNames: ['vs'], schema: IstioVirtualServiceSpecSchema },
  { kind: 'DestinationRule', plural: 'destinationrules', shortNames: ['dr'], schema: IstioDestinationRuleSpecSchema },
  { kind: 'ServiceEntry', plural: 'serviceentries', shortNames: ['se'], schema: IstioServiceEntrySpecSchema },
  { kind: 'AuthorizationPolicy', plural: 'authorizationpolicies', shortNames: ['ap'], schema: IstioAuthorizationPolicySpecSchema, group: 'security.istio.io' },
];

const NETWORKING = 'networking.istio.io';

export function istioCrds(): Record<string, unknown>[] {
  return KINDS.map((k) => {
    const group = k.group ?? NETWORKING;
    const versions = group === NETWORKING ? ['v1', 'v1beta1', 'v1alpha3'] : ['v1', 'v1beta1'];
    const spec = toStructural(z.toJSONSchema(k.schema, { unrepresentable: 'any', io: 'input' }));
    const schema = {
      openAPIV3Schema: {
        type: 'object',
        description: `Istio ${k.kind} (the fields Meshlet applies are typed; others are kept as written).`,
        properties: {
          spec,
          status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    };
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${k.plural}.${group}`, labels: { 'app.kubernetes.io/part-of': 'meshlet' } },
      spec: {
        group,
        names: { kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.kind.toLowerCase(), shortNames: [...k.shortNames], categories: ['istio-io', `${group.split('.')[0]}-istio-io`] },
        scope: 'Namespaced',
        versions: versions.map((name) => ({ name, served: true, storage: name === 'v1', schema, subresources: { status: {} } })),
      },
    };
  });
}
