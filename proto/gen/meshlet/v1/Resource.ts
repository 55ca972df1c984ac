// Original file: proto/meshlet/v1/discovery.proto


export interface Resource {
  'kind'?: (string);
  'name'?: (string);
  'body'?: (string);
  'ttlMs'?: (number);
}

export interface Resource__Output {
  'kind': (string);
  'name': (string);
  'body': (string);
  'ttlMs': (number);
}
