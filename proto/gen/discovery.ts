import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _meshlet_v1_Ack, Ack__Output as _meshlet_v1_Ack__Output } from './meshlet/v1/Ack.js';
import type { ApplyExperimentRequest as _meshlet_v1_ApplyExperimentRequest, ApplyExperimentRequest__Output as _meshlet_v1_ApplyExperimentRequest__Output } from './meshlet/v1/ApplyExperimentRequest.js';
import type { CertificateRequest as _meshlet_v1_CertificateRequest, CertificateRequest__Output as _meshlet_v1_CertificateRequest__Output } from './meshlet/v1/CertificateRequest.js';
import type { CertificateResponse as _meshlet_v1_CertificateResponse, CertificateResponse__Output as _meshlet_v1_CertificateResponse__Output } from './meshlet/v1/CertificateResponse.js';
import type { ClusterEndpointDelta as _meshlet_v1_ClusterEndpointDelta, ClusterEndpointDelta__Output as _meshlet_v1_ClusterEndpointDelta__Output } from './meshlet/v1/ClusterEndpointDelta.js';
import type { ConfigError as _meshlet_v1_ConfigError, ConfigError__Output as _meshlet_v1_ConfigError__Output } from './meshlet/v1/ConfigError.js';
import type { DiscoveryRequest as _meshlet_v1_DiscoveryRequest, DiscoveryRequest__Output as _meshlet_v1_DiscoveryRequest__Output } from './meshlet/v1/DiscoveryRequest.js';
import type { DiscoveryResponse as _meshlet_v1_DiscoveryResponse, DiscoveryResponse__Output as _meshlet_v1_DiscoveryResponse__Output } from './meshlet/v1/DiscoveryResponse.js';
import type { EndpointAddress as _meshlet_v1_EndpointAddress, EndpointAddress__Output as _meshlet_v1_EndpointAddress__Output } from './meshlet/v1/EndpointAddress.js';
import type { ExperimentReply as _meshlet_v1_ExperimentReply, ExperimentReply__Output as _meshlet_v1_ExperimentReply__Output } from './meshlet/v1/ExperimentReply.js';
import type { MeshDiscoveryClient as _meshlet_v1_MeshDiscoveryClient, MeshDiscoveryDefinition as _meshlet_v1_MeshDiscoveryDefinition } from './meshlet/v1/MeshDiscovery.js';
import type { Nack as _meshlet_v1_Nack, Nack__Output as _meshlet_v1_Nack__Output } from './meshlet/v1/Nack.js';
import type { Node as _meshlet_v1_Node, Node__Output as _meshlet_v1_Node__Output } from './meshlet/v1/Node.js';
import type { NodeConfigRequest as _meshlet_v1_NodeConfigRequest, NodeConfigRequest__Output as _meshlet_v1_NodeConfigRequest__Output } from './meshlet/v1/NodeConfigRequest.js';
import type { NodeConfigResponse as _meshlet_v1_NodeConfigResponse, NodeConfigResponse__Output as _meshlet_v1_NodeConfigResponse__Output } from './meshlet/v1/NodeConfigResponse.js';
import type { NodeStatus as _meshlet_v1_NodeStatus, NodeStatus__Output as _meshlet_v1_NodeStatus__Output } from './meshlet/v1/NodeStatus.js';
import type { RemoveExperimentRequest as _meshlet_v1_RemoveExperimentRequest, RemoveExperimentRequest__Output as _meshlet_v1_RemoveExperimentRequest__Output } from './meshlet/v1/RemoveExperimentRequest.js';
import type { Resource as _meshlet_v1_Resource, Resource__Output as _meshlet_v1_Resource__Output } from './meshlet/v1/Resource.js';
import type { SourceStatus as _meshlet_v1_SourceStatus, SourceStatus__Output as _meshlet_v1_SourceStatus__Output } from './meshlet/v1/SourceStatus.js';
import type { StatusRequest as _meshlet_v1_StatusRequest, StatusRequest__Output as _meshlet_v1_StatusRequest__Output } from './meshlet/v1/StatusRequest.js';
import type { StatusResponse as _meshlet_v1_StatusResponse, StatusResponse__Output as _meshlet_v1_StatusResponse__Output } from './meshlet/v1/StatusResponse.js';
import type { Subscribe as _meshlet_v1_Subscribe, Subscribe__Output as _meshlet_v1_Subscribe__Output } from './meshlet/v1/Subscribe.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  meshlet: {
    v1: {
      Ack: MessageTypeDefinition<_meshlet_v1_Ack, _meshlet_v1_Ack__Output>
      ApplyExperimentRequest: MessageTypeDefinition<_meshlet_v1_ApplyExperimentRequest, _meshlet_v1_ApplyExperimentRequest__Output>
      CertificateRequest: MessageTypeDefinition<_meshlet_v1_CertificateRequest, _meshlet_v1_CertificateRequest__Output>
      CertificateResponse: MessageTypeDefinition<_meshlet_v1_CertificateResponse, _meshlet_v1_CertificateResponse__Output>
      ClusterEndpointDelta: MessageTypeDefinition<_meshlet_v1_ClusterEndpointDelta, _meshlet_v1_ClusterEndpointDelta__Output>
      ConfigError: MessageTypeDefinition<_meshlet_v1_ConfigError, _meshlet_v1_ConfigError__Output>
      DiscoveryRequest: MessageTypeDefinition<_meshlet_v1_DiscoveryRequest, _meshlet_v1_DiscoveryRequest__Output>
      DiscoveryResponse: MessageTypeDefinition<_meshlet_v1_DiscoveryResponse, _meshlet_v1_DiscoveryResponse__Output>
      EndpointAddress: MessageTypeDefinition<_meshlet_v1_EndpointAddress, _meshlet_v1_EndpointAddress__Output>
      ExperimentReply: MessageTypeDefinition<_meshlet_v1_ExperimentReply, _meshlet_v1_ExperimentReply__Output>
      MeshDiscovery: SubtypeConstructor<typeof grpc.Client, _meshlet_v1_MeshDiscoveryClient> & { service: _meshlet_v1_MeshDiscoveryDefinition }
      Nack: MessageTypeDefinition<_meshlet_v1_Nack, _meshlet_v1_Nack__Output>
      Node: MessageTypeDefinition<_meshlet_v1_Node, _meshlet_v1_Node__Output>
      NodeConfigRequest: MessageTypeDefinition<_meshlet_v1_NodeConfigRequest, _meshlet_v1_NodeConfigRequest__Output>
      NodeConfigResponse: MessageTypeDefinition<_meshlet_v1_NodeConfigResponse, _meshlet_v1_NodeConfigResponse__Output>
      NodeStatus: MessageTypeDefinition<_meshlet_v1_NodeStatus, _meshlet_v1_NodeStatus__Output>
      RemoveExperimentRequest: MessageTypeDefinition<_meshlet_v1_RemoveExperimentRequest, _meshlet_v1_RemoveExperimentRequest__Output>
      Resource: MessageTypeDefinition<_meshlet_v1_Resource, _meshlet_v1_Resource__Output>
      SourceStatus: MessageTypeDefinition<_meshlet_v1_SourceStatus, _meshlet_v1_SourceStatus__Output>
      StatusRequest: MessageTypeDefinition<_meshlet_v1_StatusRequest, _meshlet_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_meshlet_v1_StatusResponse, _meshlet_v1_StatusResponse__Output>
      Subscribe: MessageTypeDefinition<_meshlet_v1_Subscribe, _meshlet_v1_Subscribe__Output>
    }
  }
}

