// Original file: proto/meshlet/v1/discovery.proto


export interface EndpointAddress {
  'address'?: (string);
  'port'?: (number);
}

export interface EndpointAddress__Output {
  'address': (string);
  'port': (number);
}
