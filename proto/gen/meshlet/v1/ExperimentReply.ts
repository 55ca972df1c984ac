// Original file: proto/meshlet/v1/discovery.proto


export interface ExperimentReply {
  'generation'?: (number);
  'expiresAtMs'?: (number | string);
  'removed'?: (boolean);
}

export interface ExperimentReply__Output {
  'generation': (number);
  'expiresAtMs': (number);
  'removed': (boolean);
}
