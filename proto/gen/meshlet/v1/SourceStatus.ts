// Original file: proto/meshlet/v1/discovery.proto


export interface SourceStatus {
  'name'?: (string);
  'stale'?: (boolean);
  'staleSince'?: (string);
  'detail'?: (string);
}

export interface SourceStatus__Output {
  'name': (string);
  'stale': (boolean);
  'staleSince': (string);
  'detail': (string);
}
