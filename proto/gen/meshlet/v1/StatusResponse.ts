// Original file: proto/meshlet/v1/discovery.proto

import type { NodeStatus as _meshlet_v1_NodeStatus, NodeStatus__Output as _meshlet_v1_NodeStatus__Output } from '../../meshlet/v1/NodeStatus.js';
import type { ConfigError as _meshlet_v1_ConfigError, ConfigError__Output as _meshlet_v1_ConfigError__Output } from '../../meshlet/v1/ConfigError.js';
import type { SourceStatus as _meshlet_v1_SourceStatus, SourceStatus__Output as _meshlet_v1_SourceStatus__Output } from '../../meshlet/v1/SourceStatus.js';

export interface StatusResponse {
  'controlPlaneId'?: (string);
  'generation'?: (number);
  'nodes'?: (_meshlet_v1_NodeStatus)[];
  'configErrors'?: (_meshlet_v1_ConfigError)[];
  'sources'?: (_meshlet_v1_SourceStatus)[];
}

export interface StatusResponse__Output {
  'controlPlaneId': (string);
  'generation': (number);
  'nodes': (_meshlet_v1_NodeStatus__Output)[];
  'configErrors': (_meshlet_v1_ConfigError__Output)[];
  'sources': (_meshlet_v1_SourceStatus__Output)[];
}
