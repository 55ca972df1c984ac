// Original file: proto/meshlet/v1/discovery.proto


export interface NodeConfigResponse {
  'version'?: (string);
  'connected'?: (boolean);
  'configJson'?: (string);
}

export interface NodeConfigResponse__Output {
  'version': (string);
  'connected': (boolean);
  'configJson': (string);
}
