// Original file: proto/meshlet/v1/discovery.proto


export interface NodeConfigRequest {
  'nodeId'?: (string);
}

export interface NodeConfigRequest__Output {
  'nodeId': (string);
}
