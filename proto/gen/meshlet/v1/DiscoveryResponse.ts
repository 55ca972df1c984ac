// Original file: proto/meshlet/v1/discovery.proto

import type { Resource as _meshlet_v1_Resource, Resource__Output as _meshlet_v1_Resource__Output } from '../../meshlet/v1/Resource.js';
import type { ClusterEndpointDelta as _meshlet_v1_ClusterEndpointDelta, ClusterEndpointDelta__Output as _meshlet_v1_ClusterEndpointDelta__Output } from '../../meshlet/v1/ClusterEndpointDelta.js';

export interface DiscoveryResponse {
  'version'?: (string);
  'nonce'?: (string);
  'resources'?: (_meshlet_v1_Resource)[];
  'controlPlaneId'?: (string);
  'baseVersion'?: (string);
  'endpointDeltas'?: (_meshlet_v1_ClusterEndpointDelta)[];
}

export interface DiscoveryResponse__Output {
  'version': (string);
  'nonce': (string);
  'resources': (_meshlet_v1_Resource__Output)[];
  'controlPlaneId': (string);
  'baseVersion': (string);
  'endpointDeltas': (_meshlet_v1_ClusterEndpointDelta__Output)[];
}
