// Original file: proto/meshlet/v1/discovery.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApplyExperimentRequest as _meshlet_v1_ApplyExperimentRequest, ApplyExperimentRequest__Output as _meshlet_v1_ApplyExperimentRequest__Output } from '../../meshlet/v1/ApplyExperimentRequest.js';
import type { CertificateRequest as _meshlet_v1_CertificateRequest, CertificateRequest__Output as _meshlet_v1_CertificateRequest__Output } from '../../meshlet/v1/CertificateRequest.js';
import type { CertificateResponse as _meshlet_v1_CertificateResponse, CertificateResponse__Output as _meshlet_v1_CertificateResponse__Output } from '../../meshlet/v1/CertificateResponse.js';
import type { DiscoveryRequest as _meshlet_v1_DiscoveryRequest, DiscoveryRequest__Output as _meshlet_v1_DiscoveryRequest__Output } from '../../meshlet/v1/DiscoveryRequest.js';
import type { DiscoveryResponse as _meshlet_v1_DiscoveryResponse, DiscoveryResponse__Output as _meshlet_v1_DiscoveryResponse__Output } from '../../meshlet/v1/DiscoveryResponse.js';
import type { ExperimentReply as _meshlet_v1_ExperimentReply, ExperimentReply__Output as _meshlet_v1_ExperimentReply__Output } from '../../meshlet/v1/ExperimentReply.js';
import type { NodeConfigRequest as _meshlet_v1_NodeConfigRequest, NodeConfigRequest__Output as _meshlet_v1_NodeConfigRequest__Output } from '../../meshlet/v1/NodeConfigRequest.js';
import type { NodeConfigResponse as _meshlet_v1_NodeConfigResponse, NodeConfigResponse__Output as _meshlet_v1_NodeConfigResponse__Output } from '../../meshlet/v1/NodeConfigResponse.js';
import type { RemoveExperimentRequest as _meshlet_v1_RemoveExperimentRequest, RemoveExperimentRequest__Output as _meshlet_v1_RemoveExperimentRequest__Output } from '../../meshlet/v1/RemoveExperimentRequest.js';
import type { StatusRequest as _meshlet_v1_StatusRequest, StatusRequest__Output as _meshlet_v1_StatusRequest__Output } from '../../meshlet/v1/StatusRequest.js';
import type { StatusResponse as _meshlet_v1_StatusResponse, StatusResponse__Output as _meshlet_v1_StatusResponse__Output } from '../../meshlet/v1/StatusResponse.js';

export interface MeshDiscoveryClient extends grpc.Client {
  ApplyExperiment(argument: _meshlet_v1_ApplyExperimentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  ApplyExperiment(argument: _meshlet_v1_ApplyExperimentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  ApplyExperiment(argument: _meshlet_v1_ApplyExperimentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  ApplyExperiment(argument: _meshlet_v1_ApplyExperimentRequest, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  applyExperiment(argument: _meshlet_v1_ApplyExperimentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  applyExperiment(argument: _meshlet_v1_ApplyExperimentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  applyExperiment(argument: _meshlet_v1_ApplyExperimentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  applyExperiment(argument: _meshlet_v1_ApplyExperimentRequest, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  
  CreateCertificate(argument: _meshlet_v1_CertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  CreateCertificate(argument: _meshlet_v1_CertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  CreateCertificate(argument: _meshlet_v1_CertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  CreateCertificate(argument: _meshlet_v1_CertificateRequest, callback: grpc.requestCallback<_meshlet_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _meshlet_v1_CertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _meshlet_v1_CertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _meshlet_v1_CertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _meshlet_v1_CertificateRequest, callback: grpc.requestCallback<_meshlet_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  
  GetNodeConfig(argument: _meshlet_v1_NodeConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_NodeConfigResponse__Output>): grpc.ClientUnaryCall;
  GetNodeConfig(argument: _meshlet_v1_NodeConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_NodeConfigResponse__Output>): grpc.ClientUnaryCall;
  GetNodeConfig(argument: _meshlet_v1_NodeConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_NodeConfigResponse__Output>): grpc.ClientUnaryCall;
  GetNodeConfig(argument: _meshlet_v1_NodeConfigRequest, callback: grpc.requestCallback<_meshlet_v1_NodeConfigResponse__Output>): grpc.ClientUnaryCall;
  getNodeConfig(argument: _meshlet_v1_NodeConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_NodeConfigResponse__Output>): grpc.ClientUnaryCall;
  getNodeConfig(argument: _meshlet_v1_NodeConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_NodeConfigResponse__Output>): grpc.ClientUnaryCall;
  getNodeConfig(argument: _meshlet_v1_NodeConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_NodeConfigResponse__Output>): grpc.ClientUnaryCall;
  getNodeConfig(argument: _meshlet_v1_NodeConfigRequest, callback: grpc.requestCallback<_meshlet_v1_NodeConfigResponse__Output>): grpc.ClientUnaryCall;
  
  GetStatus(argument: _meshlet_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _meshlet_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _meshlet_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _meshlet_v1_StatusRequest, callback: grpc.requestCallback<_meshlet_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _meshlet_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _meshlet_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _meshlet_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _meshlet_v1_StatusRequest, callback: grpc.requestCallback<_meshlet_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveExperiment(argument: _meshlet_v1_RemoveExperimentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  RemoveExperiment(argument: _meshlet_v1_RemoveExperimentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  RemoveExperiment(argument: _meshlet_v1_RemoveExperimentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  RemoveExperiment(argument: _meshlet_v1_RemoveExperimentRequest, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  removeExperiment(argument: _meshlet_v1_RemoveExperimentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  removeExperiment(argument: _meshlet_v1_RemoveExperimentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  removeExperiment(argument: _meshlet_v1_RemoveExperimentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  removeExperiment(argument: _meshlet_v1_RemoveExperimentRequest, callback: grpc.requestCallback<_meshlet_v1_ExperimentReply__Output>): grpc.ClientUnaryCall;
  
  StreamConfig(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_meshlet_v1_DiscoveryRequest, _meshlet_v1_DiscoveryResponse__Output>;
  StreamConfig(options?: grpc.CallOptions): grpc.ClientDuplexStream<_meshlet_v1_DiscoveryRequest, _meshlet_v1_DiscoveryResponse__Output>;
  streamConfig(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_meshlet_v1_DiscoveryRequest, _meshlet_v1_DiscoveryResponse__Output>;
  streamConfig(options?: grpc.CallOptions): grpc.ClientDuplexStream<_meshlet_v1_DiscoveryRequest, _meshlet_v1_DiscoveryResponse__Output>;
  
}

export interface MeshDiscoveryHandlers extends grpc.UntypedServiceImplementation {
  ApplyExperiment: grpc.handleUnaryCall<_meshlet_v1_ApplyExperimentRequest__Output, _meshlet_v1_ExperimentReply>;
  
  CreateCertificate: grpc.handleUnaryCall<_meshlet_v1_CertificateRequest__Output, _meshlet_v1_CertificateResponse>;
  
  GetNodeConfig: grpc.handleUnaryCall<_meshlet_v1_NodeConfigRequest__Output, _meshlet_v1_NodeConfigResponse>;
  
  GetStatus: grpc.handleUnaryCall<_meshlet_v1_StatusRequest__Output, _meshlet_v1_StatusResponse>;
  
  RemoveExperiment: grpc.handleUnaryCall<_meshlet_v1_RemoveExperimentRequest__Output, _meshlet_v1_ExperimentReply>;
  
  StreamConfig: grpc.handleBidiStreamingCall<_meshlet_v1_DiscoveryRequest__Output, _meshlet_v1_DiscoveryResponse>;
  
}

export interface MeshDiscoveryDefinition extends grpc.ServiceDefinition {
  ApplyExperiment: MethodDefinition<_meshlet_v1_ApplyExperimentRequest, _meshlet_v1_ExperimentReply, _meshlet_v1_ApplyExperimentRequest__Output, _meshlet_v1_ExperimentReply__Output>
  CreateCertificate: MethodDefinition<_meshlet_v1_CertificateRequest, _meshlet_v1_CertificateResponse, _meshlet_v1_CertificateRequest__Output, _meshlet_v1_CertificateResponse__Output>
  GetNodeConfig: MethodDefinition<_meshlet_v1_NodeConfigRequest, _meshlet_v1_NodeConfigResponse, _meshlet_v1_NodeConfigRequest__Output, _meshlet_v1_NodeConfigResponse__Output>
  GetStatus: MethodDefinition<_meshlet_v1_StatusRequest, _meshlet_v1_StatusResponse, _meshlet_v1_StatusRequest__Output, _meshlet_v1_StatusResponse__Output>
  RemoveExperiment: MethodDefinition<_meshlet_v1_RemoveExperimentRequest, _meshlet_v1_ExperimentReply, _meshlet_v1_RemoveExperimentRequest__Output, _meshlet_v1_ExperimentReply__Output>
  StreamConfig: MethodDefinition<_meshlet_v1_DiscoveryRequest, _meshlet_v1_DiscoveryResponse, _meshlet_v1_DiscoveryRequest__Output, _meshlet_v1_DiscoveryResponse__Output>
}
