// `meshlet crds`: prints the CustomResourceDefinitions of the Istio kinds
// Meshlet reads, generated from the config loader's own schemas.
import { stringify } from 'yaml';
import { istioCrds } from '../../control-plane/crds/index.js';
import { flagsHelp, parseOrUsage, type FlagSpec } from '../flags.js';

const SPEC = {} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet crds > crds.yaml

Prints the VirtualService, DestinationRule and ServiceEntry CRDs
(networking.istio.io, served as v1, v1beta1, v1alpha3), generated from the
zod schemas the loader validates with, as structural schemas.`,
  SPEC,
);

export async function run(argv: string[]): Promise<number> {
  if (parseOrUsage(argv, SPEC, help) === undefined) return 2;
  process.stdout.write(istioCrds().map((c) => stringify(c, { aliasDuplicateObjects: false })).join('---\n'));
  return 0;
}
