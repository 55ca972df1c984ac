// The Istio networking CRDs Meshlet reads, generated from the same zod
// schemas the config loader validates with, so the API server and the loader
// never disagree about shape (semantic checks like regex compilation stay in
// the loader and are reported in `meshlet status`). Names and versions are
// Istio's: served as v1, v1beta1 and v1alpha3, stored as v1.
import { z } from 'zod';
import { IstioDestinationRuleSpecSchema, IstioServiceEntrySpecSchema, IstioVirtualServiceSpecSchema } from '../../proxy/config/istio/index.js';
import { toStructural } from './structural-schema.js';

interface CrdKind {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: readonly string[];
  readonly schema: z.ZodType;
}

const KINDS: readonly CrdKind[] = [
  { kind: 'VirtualService', plural: 'virtualservices', shortNames: ['vs'], schema: IstioVirtualServiceSpecSchema },
  { kind: 'DestinationRule', plural: 'destinationrules', shortNames: ['dr'], schema: IstioDestinationRuleSpecSchema },
  { kind: 'ServiceEntry', plural: 'serviceentries', shortNames: ['se'], schema: IstioServiceEntrySpecSchema },
];

const GROUP = 'networking.istio.io';

export function istioCrds(): Record<string, unknown>[] {
  return KINDS.map((k) => {
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
      metadata: { name: `${k.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'meshlet' } },
      spec: {
        group: GROUP,
        names: { kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.kind.toLowerCase(), shortNames: [...k.shortNames], categories: ['istio-io', 'networking-istio-io'] },
        scope: 'Namespaced',
        versions: ['v1', 'v1beta1', 'v1alpha3'].map((name) => ({ name, served: true, storage: name === 'v1', schema, subresources: { status: {} } })),
      },
    };
  });
}
