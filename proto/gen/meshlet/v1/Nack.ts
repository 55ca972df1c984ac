// Original file: proto/meshlet/v1/discovery.proto

import type { ConfigError as _meshlet_v1_ConfigError, ConfigError__Output as _meshlet_v1_ConfigError__Output } from '../../meshlet/v1/ConfigError.js';

export interface Nack {
  'version'?: (string);
  'nonce'?: (string);
  'errorDetail'?: (_meshlet_v1_ConfigError)[];
}

export interface Nack__Output {
  'version': (string);
  'nonce': (string);
  'errorDetail': (_meshlet_v1_ConfigError__Output)[];
}
