// Original file: proto/meshlet/v1/discovery.proto


export interface ConfigError {
  'resource'?: (string);
  'path'?: (string);
  'reason'?: (string);
  'file'?: (string);
}

export interface ConfigError__Output {
  'resource': (string);
  'path': (string);
  'reason': (string);
  'file': (string);
}
