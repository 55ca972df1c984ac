// Original file: proto/meshlet/v1/discovery.proto

import type { Node as _meshlet_v1_Node, Node__Output as _meshlet_v1_Node__Output } from '../../meshlet/v1/Node.js';

export interface Subscribe {
  'node'?: (_meshlet_v1_Node | null);
  'currentVersion'?: (string);
  'endpointDeltas'?: (boolean);
}

export interface Subscribe__Output {
  'node': (_meshlet_v1_Node__Output | null);
  'currentVersion': (string);
  'endpointDeltas': (boolean);
}
