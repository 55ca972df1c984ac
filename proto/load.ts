// Runtime loading of the wire contract. The .proto files are read at startup by
// @grpc/proto-loader (protobufjs, no codegen at runtime); proto/gen only holds the
// matching TypeScript types. Both sides (control plane and sidecar) load it here
// so the loader options always match the flags used to generate the types.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import type { ProtoGrpcType as DiscoveryProto } from './gen/discovery.js';
import type { ProtoGrpcType as HealthProto } from './gen/health.js';

export type { DiscoveryProto, HealthProto };

// Must mirror `npm run gen:proto` (--longs=String --enums=String --defaults --oneofs).
const LOADER_OPTIONS: Options = { longs: String, enums: String, defaults: true, oneofs: true };

/** Finds proto/meshlet/v1 from source (proto/load.ts) and from the build (dist/proto/load.js). */
function protoDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, 'meshlet', 'v1'), join(here, '..', '..', 'proto', 'meshlet', 'v1')]) {
    if (existsSync(join(candidate, 'discovery.proto'))) return candidate;
  }
  throw new Error(`meshlet: cannot find proto/meshlet/v1/discovery.proto from ${here}`);
}

let discovery: DiscoveryProto | undefined;
let health: HealthProto | undefined;

export function loadDiscoveryProto(): DiscoveryProto {
  discovery ??= loadPackageDefinition(loadSync(join(protoDir(), 'discovery.proto'), LOADER_OPTIONS)) as unknown as DiscoveryProto;
  return discovery;
}

export function loadHealthProto(): HealthProto {
  health ??= loadPackageDefinition(loadSync(join(protoDir(), 'health.proto'), LOADER_OPTIONS)) as unknown as HealthProto;
  return health;
}
