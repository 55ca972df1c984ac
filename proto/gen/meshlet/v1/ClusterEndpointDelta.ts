// Original file: proto/meshlet/v1/discovery.proto

import type { EndpointAddress as _meshlet_v1_EndpointAddress, EndpointAddress__Output as _meshlet_v1_EndpointAddress__Output } from '../../meshlet/v1/EndpointAddress.js';

export interface ClusterEndpointDelta {
  'cluster'?: (string);
  'upserts'?: (string);
  'removed'?: (_meshlet_v1_EndpointAddress)[];
}

export interface ClusterEndpointDelta__Output {
  'cluster': (string);
  'upserts': (string);
  'removed': (_meshlet_v1_EndpointAddress__Output)[];
}
