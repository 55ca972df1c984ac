// Original file: proto/meshlet/v1/discovery.proto


export interface RemoveExperimentRequest {
  'name'?: (string);
}

export interface RemoveExperimentRequest__Output {
  'name': (string);
}
