// Original file: proto/meshlet/v1/discovery.proto

import type { Subscribe as _meshlet_v1_Subscribe, Subscribe__Output as _meshlet_v1_Subscribe__Output } from '../../meshlet/v1/Subscribe.js';
import type { Ack as _meshlet_v1_Ack, Ack__Output as _meshlet_v1_Ack__Output } from '../../meshlet/v1/Ack.js';
import type { Nack as _meshlet_v1_Nack, Nack__Output as _meshlet_v1_Nack__Output } from '../../meshlet/v1/Nack.js';

export interface DiscoveryRequest {
  'subscribe'?: (_meshlet_v1_Subscribe | null);
  'ack'?: (_meshlet_v1_Ack | null);
  'nack'?: (_meshlet_v1_Nack | null);
  'kind'?: "subscribe"|"ack"|"nack";
}

export interface DiscoveryRequest__Output {
  'subscribe'?: (_meshlet_v1_Subscribe__Output | null);
  'ack'?: (_meshlet_v1_Ack__Output | null);
  'nack'?: (_meshlet_v1_Nack__Output | null);
  'kind'?: "subscribe"|"ack"|"nack";
}
