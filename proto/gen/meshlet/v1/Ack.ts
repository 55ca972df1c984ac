// Original file: proto/meshlet/v1/discovery.proto


export interface Ack {
  'version'?: (string);
  'nonce'?: (string);
}

export interface Ack__Output {
  'version': (string);
  'nonce': (string);
}
