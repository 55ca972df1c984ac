// Original file: proto/meshlet/v1/discovery.proto


export interface ApplyExperimentRequest {
  'name'?: (string);
  'virtualServiceYaml'?: (string);
  'ttlMs'?: (number);
}

export interface ApplyExperimentRequest__Output {
  'name': (string);
  'virtualServiceYaml': (string);
  'ttlMs': (number);
}
